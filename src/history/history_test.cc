#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "history/influx_sink.h"
#include "history/line_protocol.h"
#include "history/store.h"
#include "model/json.h"

namespace pairflow::history {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("pairflow_history_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path p = dir / name;
  fs::remove_all(p);
  fs::remove(p.string() + "-wal");
  fs::remove(p.string() + "-shm");
  return p;
}

// The non-null fields of a JSON object, as name -> minified value.
std::map<std::string, std::string> fields(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::object object = parser.parse(json).get_object().value();
  std::map<std::string, std::string> out;
  for (auto [k, v] : object)
    if (!v.is_null()) out[std::string(k)] = simdjson::minify(v);
  return out;
}

std::vector<std::string> read_all(HistoryReader& reader, const Query& q) {
  Cursor c = reader.query(q);
  std::vector<std::string> rows;
  while (c.next()) {
    std::string row;
    c.append_json(row);
    rows.push_back(row);
  }
  return rows;
}

struct Sample {
  std::string topic, json;
};

std::vector<Sample> every_message_type() {
  SymbolTable symbols;
  const SymbolId a = symbols.intern("AAA"), b = symbols.intern("B B,C=D");
  std::vector<Sample> out;
  Tick t;
  t.ts = 1'704'205'800'609'617'113;
  t.symbol = a;
  t.price = 128.34;
  t.size = 100;
  t.bid = 128.33;
  t.ask = 128.35;
  out.push_back({"ticks", to_json(t, symbols)});
  t.symbol = b;
  t.bid = t.ask = kNaN;  // no quote: nulls
  out.push_back({"ticks", to_json(t, symbols)});
  Bar bar;
  bar.ts = 1'704'205'800'000'000'000;
  bar.symbol = a;
  bar.open = 1.5, bar.high = 2.25, bar.low = 1.0, bar.close = 2.0, bar.volume = 2100;
  bar.vwap = 1.75, bar.count = 12;
  out.push_back({"bars.1m", to_json(bar, symbols)});
  Signal s;
  s.ts = bar.ts + 60'000'000'000;
  s.pair = 3;
  s.z = -2.2147037513998247;
  s.hedge_ratio = 1.05;
  s.action = SignalAction::kEnterLong;
  out.push_back({"pairs.signals", to_json(s)});
  Order o;
  o.client_order_id = 0xF000'0000'0000'0001ull;  // beyond int64
  o.ts = s.ts;
  o.symbol = a;
  o.side = Side::kSell;
  o.qty = 1188;
  o.type = OrderType::kLimit;
  o.limit = 36.17;
  o.pair = 3;
  out.push_back({"orders", to_json(o, symbols)});
  Execution e;
  e.client_order_id = 5'776'087'545'353'631'184ull;
  e.ts = s.ts;
  e.symbol = a;
  e.qty = 1188;
  e.price = 36.17;
  e.fee = 2.148498;
  e.status = ExecStatus::kFilled;
  e.pair = 3;
  out.push_back({"executions", to_json(e, symbols)});
  Position p;
  p.ts = s.ts;
  p.symbol = a;
  p.qty = -462;
  p.avg_price = 123.44;
  p.mark = 123.4;
  p.unrealized_pnl = -18.479999999996323;
  out.push_back({"positions", to_json(p, symbols)});
  PnL pnl;
  pnl.ts = s.ts;
  pnl.cash = 500000;
  pnl.equity = 499981.52;
  pnl.net_pnl = -18.48;
  out.push_back({"pnl", to_json(pnl)});
  out.push_back({"pnl.pairs",
                 R"({"ts":1704297960000000000,"pair":0,"y":"S006","x":"S018","qty_y":1188,)"
                 R"("qty_x":462,"net_pnl":-47.239961999992374,"fees":4.999962,"trades":1})"});
  out.push_back({"pairs.control",
                 R"({"ts":1704297600000000000,"pair":0,"action":"activate","y":"S006","x":"S018",)"
                 R"("hedge_ratio":-1.3735276186871086,"half_life":1.795213865509938})"});
  out.push_back(
      {"control", R"({"ts":1704297600000000001,"command":"kill","reason":"a \"test\""})"});
  out.push_back({"features.1m", R"({"ts":1704205800000000000,"symbol":"AAA","sma_20":1.5,)"
                                R"("flags":[1,2],"ok":true})"});
  return out;
}

TEST(HistoryStore, EveryMessageTypeRoundTrips) {
  const auto path = scratch("round.db").string();
  const auto samples = every_message_type();
  {
    HistoryWriter w(path);
    for (const Sample& s : samples) {
      Status st = w.append(s.topic, "", s.json);
      ASSERT_TRUE(st.is_ok()) << s.topic << ": " << st.message();
    }
    w.commit();
    EXPECT_EQ(w.rows(), samples.size());
  }
  HistoryReader r(path);
  std::map<std::string, std::vector<std::string>> by_topic;
  for (const Sample& s : samples) by_topic[s.topic].push_back(s.json);
  for (const auto& [topic, expected] : by_topic) {
    Query q;
    q.topic = topic;
    auto rows = read_all(r, q);
    ASSERT_EQ(rows.size(), expected.size()) << topic;
    for (std::size_t i = 0; i < rows.size(); ++i)
      EXPECT_EQ(fields(rows[i]), fields(expected[i])) << topic << "\n" << rows[i];
  }
  // One table per message type, not per symbol or pair.
  auto topics = r.topics();
  ASSERT_EQ(topics.size(), by_topic.size());
  for (const TopicInfo& t : topics) EXPECT_EQ(t.table, table_for_topic(t.topic));
  EXPECT_EQ(table_for_topic("bars.5m"), "bars");
  EXPECT_EQ(table_for_topic("pnl.pairs"), "pair_pnl");
  EXPECT_EQ(table_for_topic("my-job.out"), "my_job_out");
  EXPECT_EQ(table_for_topic("_pf_series"), "t_pf_series");
}

TEST(HistoryStore, QueriesOneSymbolInTimeRange) {
  const auto path = scratch("range.db").string();
  {
    HistoryWriter w(path);
    for (int i = 0; i < 100; ++i) {
      for (const char* sym : {"AAA", "BBB"}) {
        std::string json = fmt::format(
            R"({{"ts":{},"symbol":"{}","open":1,"high":2,"low":0.5,"close":{},"volume":10}})",
            i * kNanosPerSecond, sym, i);
        ASSERT_TRUE(w.append("bars.1s", "", json).is_ok());
      }
    }
  }
  HistoryReader r(path);
  Query q;
  q.topic = "bars.1s";
  q.key = "BBB";
  q.from = 10 * kNanosPerSecond;
  q.to = 20 * kNanosPerSecond;
  auto rows = read_all(r, q);
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(fields(rows.front())["close"], "10");
  EXPECT_EQ(fields(rows.back())["symbol"], "\"BBB\"");
  q.key.reset();
  EXPECT_EQ(read_all(r, q).size(), 20u);
  q.topic = "nope";
  try {
    (void)r.query(q);
    FAIL() << "unknown topic accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown topic 'nope' (stored: bars.1s)"),
              std::string::npos)
        << e.what();
  }
}

TEST(HistoryStore, WritingTheSameStreamAgainOverwritesInsteadOfDoubling) {
  const auto path = scratch("twice.db").string();
  const std::vector<std::string> stream = {
      R"({"ts":5,"symbol":"A","price":1,"size":1})", R"({"ts":5,"symbol":"A","price":2,"size":1})",
      R"({"ts":5,"symbol":"B","price":3,"size":1})", R"({"ts":6,"symbol":"A","price":4,"size":1})"};
  for (int pass = 0; pass < 2; ++pass) {
    HistoryWriter w(path);
    for (const auto& m : stream) ASSERT_TRUE(w.append("ticks", "", m).is_ok());
  }
  HistoryReader r(path);
  Query q;
  q.topic = "ticks";
  auto rows = read_all(r, q);
  ASSERT_EQ(rows.size(), 4u);  // two ticks of A at ts 5 are both kept, once each
  // Ties across symbols keep the order they were recorded in.
  EXPECT_EQ(fields(rows[0])["price"], "1");
  EXPECT_EQ(fields(rows[1])["price"], "2");
  EXPECT_EQ(fields(rows[2])["price"], "3");
}

TEST(HistoryStore, ResumingFromASnapshotAssignsTheSameIdentities) {
  const auto path = scratch("resume.db").string();
  std::string state;
  {
    HistoryWriter w(path);
    ASSERT_TRUE(w.append("ticks", "", R"({"ts":7,"symbol":"A","price":1,"size":1})").is_ok());
    state = w.snapshot();
    ASSERT_TRUE(w.append("ticks", "", R"({"ts":7,"symbol":"A","price":2,"size":1})").is_ok());
  }  // "crash" after the second row, whose input position was never committed
  {
    HistoryWriter w(path);
    w.restore(state);
    ASSERT_TRUE(w.append("ticks", "", R"({"ts":7,"symbol":"A","price":2,"size":1})").is_ok());
  }
  HistoryReader r(path);
  Query q;
  q.topic = "ticks";
  EXPECT_EQ(read_all(r, q).size(), 2u);
}

TEST(HistoryStore, BadRowsAreRejectedWithReasonsAndCounted) {
  const auto path = scratch("bad.db").string();
  WriterOptions options;
  options.max_string = 16;
  HistoryWriter w(path, options);
  w.restrict_topics({"ticks", "notes"});
  auto why = [&](std::string_view topic, std::string_view json) {
    Status s = w.append(topic, "", json);
    return s.is_ok() ? std::string("ok") : s.message();
  };
  EXPECT_EQ(why("ticks", R"({"ts":1,"symbol":"A","price":1,"size":1})"), "ok");
  EXPECT_EQ(why("ticks", "not json"), "malformed: ticks: not a JSON object");
  EXPECT_EQ(why("ticks", R"({"ts":2,"symbol":"A","price":NaN,"size":1})"),
            "malformed: ticks: not a JSON object");
  EXPECT_EQ(why("ticks", R"({"ts":2,"symbol":"A","price":null,"size":1})"),
            "bad_number: ticks: field 'price' must be a finite number");
  EXPECT_EQ(why("ticks", R"({"ts":2,"symbol":"A","price":"1.5","size":1})"),
            "type_conflict: ticks: field 'price' is text, earlier rows stored int");
  EXPECT_EQ(why("ticks", R"({"symbol":"A","price":1,"size":1})"),
            "no_event_time: ticks: no 'ts' field");
  EXPECT_EQ(why("notes", R"({"ts":3,"text":"far longer than sixteen bytes"})"),
            "string_too_long: notes: field 'text' is 29 bytes (limit 16)");
  EXPECT_EQ(why("other", R"({"ts":3})"), "unknown_topic: topic 'other' is not recorded");
  EXPECT_EQ(why("ticks", R"({"ts":4,"symbol":"A","Price":1,"size":1})"),
            "bad_field_name: ticks: field 'Price' differs from column 'price' only in case");
  EXPECT_EQ(w.rows(), 1u);
  EXPECT_EQ(w.rejects(RejectKind::kMalformed), 2u);
  EXPECT_EQ(w.rejects(RejectKind::kBadNumber), 1u);
  EXPECT_EQ(w.rejects(RejectKind::kTypeConflict), 1u);
  EXPECT_EQ(w.rejects(RejectKind::kStringTooLong), 1u);
  EXPECT_EQ(w.rejects(RejectKind::kUnknownTopic), 1u);
  EXPECT_EQ(w.rejects_total(), 8u);
  // An integer column widens to real; a later field gets a column of its own.
  EXPECT_EQ(why("ticks", R"({"ts":5,"symbol":"A","price":1.25,"size":1,"venue":"X"})"), "ok");
  w.commit();
  HistoryReader r(path);
  Query q;
  q.topic = "ticks";
  auto rows = read_all(r, q);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1], R"({"ts":5,"symbol":"A","price":1.25,"size":1,"venue":"X"})");
}

TEST(HistoryStore, RetentionAndPruneDeleteByEventTime) {
  const auto path = scratch("retention.db").string();
  {
    WriterOptions options;
    options.retention = 10 * kNanosPerSecond;
    options.batch_rows = 7;
    HistoryWriter w(path, options);
    for (int i = 0; i < 100; ++i)
      ASSERT_TRUE(
          w.append("pnl", "", fmt::format(R"({{"ts":{},"equity":{}}})", i * kNanosPerSecond, i))
              .is_ok());
  }
  {
    HistoryReader r(path);
    auto t = r.topics();
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].last, 99 * kNanosPerSecond);
    EXPECT_GE(t[0].first, 89 * kNanosPerSecond);
  }
  HistoryReader r(path, true);
  const auto deleted = r.prune(95 * kNanosPerSecond);
  EXPECT_GT(deleted, 0u);
  EXPECT_EQ(r.topics()[0].first, 95 * kNanosPerSecond);
}

TEST(HistoryStore, LateRowsAndReplaysAcrossBlocks) {
  const auto path = scratch("late.db").string();
  auto tick = [](Timestamp ts, double price) {
    return fmt::format(R"({{"ts":{},"symbol":"A","price":{},"size":1}})", ts, price);
  };
  {
    HistoryWriter w(path);
    for (Timestamp ts : {10, 20, 30}) ASSERT_TRUE(w.append("ticks", "", tick(ts, ts)).is_ok());
    w.commit();
    ASSERT_TRUE(w.append("ticks", "", tick(15, 15)).is_ok());  // late: a block of its own
  }
  {
    HistoryWriter w(path);  // a new writer with no state: the replay is recognised by content
    ASSERT_TRUE(w.append("ticks", "", tick(20, 20)).is_ok());
    EXPECT_EQ(w.duplicates(), 1u);
    ASSERT_TRUE(w.append("ticks", "", tick(30, 31)).is_ok());  // another message at ts 30
    EXPECT_EQ(w.duplicates(), 1u);
  }
  HistoryReader r(path);
  Query q;
  q.topic = "ticks";
  q.key = "A";
  std::vector<std::string> prices;
  for (const auto& row : read_all(r, q)) prices.push_back(fields(row)["price"]);
  EXPECT_EQ(prices, (std::vector<std::string>{"10", "15", "20", "30", "31"}));
  q.from = 15;
  q.to = 30;
  EXPECT_EQ(read_all(r, q).size(), 2u);
}

TEST(HistoryStore, ATrickleOfSmallCommitsBecomesFewBlocks) {
  const auto path = scratch("trickle.db").string();
  {
    WriterOptions options;
    options.batch_rows = 3;  // a commit every 3 rows
    HistoryWriter w(path, options);
    for (int i = 0; i < 3000; ++i)
      ASSERT_TRUE(w.append("pnl", "", fmt::format(R"({{"ts":{},"equity":{}}})", i, i)).is_ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*), sum(rows) FROM pnl", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_LE(sqlite3_column_int(st, 0), 4);  // blocks of >= 1024 rows, not 1000 blocks of 3
  EXPECT_EQ(sqlite3_column_int(st, 1), 3000);
  sqlite3_finalize(st);
  sqlite3_close(db);
  HistoryReader r(path);
  Query q;
  q.topic = "pnl";
  const auto rows = read_all(r, q);
  ASSERT_EQ(rows.size(), 3000u);
  for (std::size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(fields(rows[i])["ts"], std::to_string(i));
}

TEST(HistoryStore, BackgroundCommitsStoreExactlyWhatForegroundCommitsStore) {
  // Batches of 5 rows committed by the writer's thread while append() goes on: in-order and late
  // rows, several messages at one instant, a column that appears mid-stream, a replay of rows
  // already handed off (recognised as duplicates once their commit has landed), retention. The
  // file must hold what a writer committing in the caller's thread writes.
  std::vector<std::pair<std::string, std::string>> input;
  for (int i = 0; i < 400; ++i) {
    const int ts = i / 2;  // two ticks per instant
    const char* sym = i % 3 == 0 ? "A" : i % 3 == 1 ? "B" : "C";
    input.emplace_back(
        "ticks", fmt::format(R"({{"ts":{},"symbol":"{}","price":{},"size":1{}}})",
                             ts * kNanosPerSecond, sym, 100 + i, i > 200 ? R"(,"venue":"X")" : ""));
    if (i % 7 == 0)
      input.emplace_back("pnl", fmt::format(R"({{"ts":{},"equity":{}}})", ts * kNanosPerSecond, i));
    if (i % 50 == 49)  // a late tick, earlier than what is stored
      input.emplace_back("ticks", fmt::format(R"({{"ts":{},"symbol":"A","price":1,"size":2}})",
                                              (ts - 20) * kNanosPerSecond));
  }
  struct Result {
    std::uint64_t rows, duplicates;
    std::vector<std::string> stored;
  };
  auto write = [&](bool background) {
    const auto path = scratch(background ? "bg.db" : "fg.db").string();
    WriterOptions options;
    options.batch_rows = 5;
    options.retention = 150 * kNanosPerSecond;
    options.background_commit = background;
    Result r;
    const std::size_t crash = input.size() * 3 / 4, checkpoint = crash - 40;
    std::string state;
    {
      HistoryWriter w(path, options);
      for (std::size_t i = 0; i < crash; ++i) {
        EXPECT_TRUE(w.append(input[i].first, "", input[i].second).is_ok());
        if (i + 1 == checkpoint) {
          w.commit();
          state = w.snapshot();
        }
      }
      EXPECT_GE(w.commits(), crash / 5);
      r.rows = w.rows();
    }  // rows after the checkpoint were committed too: the restart replays them
    {
      HistoryWriter w(path, options);
      w.restore(state);
      for (std::size_t i = checkpoint; i < input.size(); ++i)
        EXPECT_TRUE(w.append(input[i].first, "", input[i].second).is_ok());
      w.commit();
      r.rows += w.rows();
      r.duplicates = w.duplicates();
    }
    HistoryReader reader(path);
    for (const char* topic : {"ticks", "pnl"}) {
      Query q;
      q.topic = topic;
      for (auto& row : read_all(reader, q)) r.stored.push_back(std::move(row));
    }
    return r;
  };
  const Result fg = write(false), bg = write(true);
  EXPECT_GE(fg.duplicates, 30u);  // the replayed rows (late rows among them are new messages)
  EXPECT_EQ(bg.rows, fg.rows);
  EXPECT_EQ(bg.duplicates, fg.duplicates);
  EXPECT_GT(fg.stored.size(), 100u);
  EXPECT_EQ(bg.stored, fg.stored);
}

// --- line protocol ---------------------------------------------------------------------------

TEST(LineProtocol, WideMeasurementTaggedBySymbolWithEscaping) {
  std::string out;
  ASSERT_TRUE(
      append_line(out, "bars.1m", "",
                  R"({"ts":60,"symbol":"B B,C=D","open":1.5,"volume":2100,"n":"a \"q\" \\"})", 0)
          .is_ok());
  EXPECT_EQ(out,
            "bars,topic=bars.1m,symbol=B\\ B\\,C\\=D open=1.5,volume=2100,n=\"a \\\"q\\\" \\\\\" "
            "60\n");
  out.clear();
  ASSERT_TRUE(append_line(out, "executions", "",
                          R"({"ts":7,"client_order_id":17293822569102704641,"pair":3,"price":null,)"
                          R"("ok":true,"field with space":1})",
                          0)
                  .is_ok());
  EXPECT_EQ(out,
            "executions,topic=executions,pair=3 client_order_id=\"17293822569102704641\",ok=true,"
            "field\\ with\\ space=1 7\n");
  out.clear();
  // The message's own event time is used when the payload has no ts.
  ASSERT_TRUE(append_line(out, "my.topic", "k1", R"({"x":1})", 99).is_ok());
  EXPECT_EQ(out, "my_topic,topic=my.topic,key=k1 x=1 99\n");
  out.clear();
  Status s = append_line(out, "notes", "", R"({"ts":1,"t":"line\nbreak"})", 0);
  EXPECT_FALSE(s.is_ok());
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(append_line(out, "notes", "", "[1,2]", 0).is_ok());
  EXPECT_FALSE(append_line(out, "notes", "", R"({"x":1})", 0).is_ok());  // no event time
}

// --- spool -----------------------------------------------------------------------------------

int closed_port() {
  // A port nobody listens on: bind, read the port, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(InfluxSink, ServerAwaySpoolsDurablyThenBlocksWhenFull) {
  const fs::path spool = scratch("spool");
  InfluxOptions o;
  o.url = fmt::format("http://127.0.0.1:{}/write", closed_port());
  o.spool_dir = spool.string();
  o.batch_points = 10;
  o.backoff_min = std::chrono::milliseconds(1);
  o.spool_max_bytes = 600;
  o.gzip = false;
  std::uint64_t spooled_points = 0;
  {
    InfluxSink sink(o);
    int i = 0;
    while (!sink.blocked() && i < 1000) {
      ASSERT_TRUE(sink.add("pnl", "", fmt::format(R"({{"ts":{},"equity":{}}})", i, i), 0).is_ok());
      ++i;
    }
    ASSERT_TRUE(sink.blocked()) << "the spool never filled";
    EXPECT_EQ(sink.stats().state, SinkState::kBlocked);
    EXPECT_GT(sink.stats().batches_spooled, 0u);
    EXPECT_GT(sink.stats().post_failures, 0u);
    EXPECT_EQ(sink.stats().points_sent, 0u);
    EXPECT_THROW(sink.make_durable(), UserError);  // neither server nor spool: say so
    spooled_points = sink.stats().batches_spooled * 10;
  }
  // A new sink (a restart) finds what the last one spooled.
  InfluxSink again(o);
  EXPECT_EQ(again.stats().state, SinkState::kSpooling);
  std::uint64_t files = 0;
  for (const auto& e : fs::directory_iterator(spool))
    if (e.is_regular_file()) ++files;
  EXPECT_EQ(files * 10, spooled_points);
  EXPECT_EQ(again.stats().spool_files, files);
  EXPECT_THROW(InfluxSink({.url = "https://x/write", .spool_dir = spool.string()}), UserError);
}

}  // namespace
}  // namespace pairflow::history
