#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "model/binary_codec.h"
#include "model/json.h"
#include "stream/job_runner.h"
#include "stream/kafka_transport.h"
#include "stream/local_bus.h"
#include "support/memory_sink.h"
#include "support/vector_source.h"

namespace pairflow::stream {
namespace {

using testing_support::numbered;
using testing_support::VectorSource;

// Sums the field i, fails on non-JSON, keeps its sum as state.
class SumJob : public stream::Job {
 public:
  void setup(stream::JobContext& ctx) override { setup_calls++; }
  void process(const stream::Message& m, stream::JobContext& ctx) override {
    if (m.payload.front() != '{') throw stream::JobError("payload is not JSON");
    sum += std::stoi(m.payload.substr(5));
    ctx.emit("", "", fmt::format(R"({{"sum":{}}})", sum));
    ctx.metric("seen", 1);
  }
  void recover(stream::JobContext&) override { recovered = true; }
  std::string snapshot_state() override { return std::to_string(sum); }
  void restore_state(std::string_view s) override { sum = std::stoi(std::string(s)); }
  int sum = 0, setup_calls = 0;
  bool recovered = false;
};

std::string temp_db(const std::string& name) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::filesystem::remove(path);
  return path;
}

TEST(JobRunner, ProcessesEmitsWithKeysAndDeadLettersFailures) {
  SumJob job;
  VectorSource source(numbered(6));
  MemorySink sink;
  JobRunner runner(job, source, sink, nullptr,
                   JobRunOptions{.job_name = "sum", .output_topic = "out", .batch_size = 4});
  const JobMetrics& m = runner.run();
  EXPECT_EQ(job.setup_calls, 1);
  EXPECT_EQ(m.consumed, 6u);
  EXPECT_EQ(m.processed, 5u);
  EXPECT_EQ(m.dead_lettered, 1u);
  EXPECT_EQ(m.user.at("seen"), 5);
  ASSERT_EQ(sink.records.size(), 6u);
  EXPECT_EQ(sink.records[0].topic, "out");
  EXPECT_EQ(sink.records[1].key, "B");  // the input's key by default
  const auto& dlq = sink.records[3];
  EXPECT_EQ(dlq.topic, "dlq.sum");
  EXPECT_EQ(
      dlq.payload,
      R"({"job":"sum","error":"payload is not JSON","topic":"in","partition":0,"offset":3,"key":"B","payload":"not json"})");
  EXPECT_EQ(sink.records[5].payload, R"({"sum":12})");  // 0+1+2+4+5: the bad row did not stop it
  EXPECT_EQ(source.committed.at(0), 6);
}

TEST(JobRunner, PublishesItsStatusWithoutCountingItAsOutput) {
  SumJob job;
  VectorSource source(numbered(6));
  MemorySink sink;
  JobRunner runner(job, source, sink, nullptr,
                   JobRunOptions{.job_name = "sum",
                                 .output_topic = "out",
                                 .checkpoint_key = "sum@g#2",
                                 .batch_size = 4,
                                 .status_topic = "jobs.status"});
  const JobMetrics& m = runner.run();
  EXPECT_EQ(m.produced, 5u);  // the job's outputs only
  std::vector<std::string> status;
  for (const auto& r : sink.records) {
    if (r.topic != "jobs.status") continue;
    EXPECT_EQ(r.key, "sum@g#2");
    status.push_back(r.payload);
  }
  ASSERT_GE(status.size(), 1u);  // at least the final one (the loop's are time-based)
  simdjson::dom::parser parser;
  simdjson::dom::element last = parser.parse(status.back());
  EXPECT_EQ(std::string_view(last["job"]), "sum");
  EXPECT_EQ(std::string_view(last["instance"]), "sum@g#2");
  EXPECT_EQ(std::string_view(last["state"]), "finished");  // the input ended
  EXPECT_EQ(int64_t(last["metrics"]["consumed"]), 6);
  EXPECT_EQ(int64_t(last["metrics"]["dead_lettered"]), 1);
  EXPECT_EQ(double(last["metrics"]["user"]["seen"]), 5.0);
  EXPECT_GT(int64_t(last["ts"]), 0);
}

TEST(JobRunner, InProcessStatusCarriesItsQueueAsLagAndComesWhileIdle) {
  // In process the lag is what waits in the job's queue; a job between steps (quiet input) still
  // publishes when its record is due, so the dashboard does not call it stale.
  SumJob job;
  LocalBus bus;
  LocalBus::Subscription& in = bus.subscribe({"in"});
  LocalBus::Subscription& status = bus.subscribe({"jobs.status"});
  JobRunner runner(job, in, bus, nullptr,
                   JobRunOptions{.job_name = "sum",
                                 .output_topic = "out",
                                 .batch_size = 2,
                                 .checkpoint_interval = std::chrono::milliseconds(0),
                                 .poll_timeout_ms = 0,
                                 .status_topic = "jobs.status"});
  runner.start();
  for (int i = 0; i < 5; ++i) bus.produce("in", "A", fmt::format(R"({{"v":{}}})", i));
  ASSERT_TRUE(runner.step());  // reads 2 of the 5: 3 wait
  stream::MessageBatch got;
  auto last_status = [&] {
    got.clear();
    status.poll(got, 100, 0);
    EXPECT_FALSE(got.empty());
    simdjson::dom::parser parser;
    simdjson::dom::element e = parser.parse(got.back().payload);
    return std::make_pair(std::string(std::string_view(e["state"])), int64_t(e["lag"]));
  };
  EXPECT_EQ(last_status(), std::make_pair(std::string("running"), int64_t{3}));
  runner.publish_status_if_due();  // no step: the record still comes, with the same queue
  EXPECT_EQ(last_status(), std::make_pair(std::string("running"), int64_t{3}));
  bus.close("in");
  while (runner.step()) {
  }
  runner.stop();
  EXPECT_EQ(last_status(), std::make_pair(std::string("finished"), int64_t{0}));
}

TEST(JobRunner, BinaryPayloadIsBase64InTheDeadLetter) {
  SumJob job;
  VectorSource source({stream::Message{
      .topic = "in", .payload = std::string("\xff\xfe", 2), .partition = 0, .offset = 0}});
  MemorySink sink;
  JobRunner(job, source, sink, nullptr, JobRunOptions{.job_name = "sum", .output_topic = "out"})
      .run();
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_NE(sink.records[0].payload.find(R"("payload_base64":"//4=")"), std::string::npos);
}

TEST(JobRunner, RestartResumesFromCheckpointWithoutLossOrDoubleCounting) {
  const std::string db = temp_db("runner_ckpt.db");
  auto input = numbered(10);
  input[3].payload = R"({"i":3})";
  {
    SqliteCheckpointStore store(db);
    SumJob job;
    VectorSource source(input, /*stop_after=*/6);  // dies after 6 messages
    MemorySink sink;
    JobRunner(job, source, sink, &store,
              JobRunOptions{.job_name = "sum", .output_topic = "out", .batch_size = 2})
        .run();
    EXPECT_FALSE(job.recovered);
    EXPECT_EQ(job.sum, 0 + 1 + 2 + 3 + 4 + 5);
  }
  SqliteCheckpointStore store(db);
  SumJob job;
  VectorSource source(input);  // the input is replayed from the start
  MemorySink sink;
  JobRunner runner(job, source, sink, &store,
                   JobRunOptions{.job_name = "sum", .output_topic = "out", .batch_size = 2});
  const JobMetrics& m = runner.run();
  EXPECT_TRUE(job.recovered);
  EXPECT_TRUE(m.restored);
  EXPECT_EQ(m.skipped, 6u);
  EXPECT_EQ(job.sum, 45);  // every message counted exactly once
  ASSERT_EQ(sink.records.size(), 4u);
  EXPECT_EQ(sink.records.back().payload, R"({"sum":45})");
  EXPECT_EQ(store.load("sum")->positions.at(0), 10);
}

TEST(CheckpointStore, RoundTripAndCorruptFile) {
  const std::string db = temp_db("store.db");
  {
    SqliteCheckpointStore store(db);
    EXPECT_FALSE(store.load("k").has_value());
    store.save("k",
               Checkpoint{.positions = {{0, 5}, {3, 9}}, .state = R"({"a":1})", .sequence = 2});
  }
  SqliteCheckpointStore store(db);
  auto c = store.load("k");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->positions, (Positions{{0, 5}, {3, 9}}));
  EXPECT_EQ(c->state, R"({"a":1})");
  EXPECT_EQ(c->sequence, 2u);
  const std::string junk = temp_db("junk.db");
  {
    std::ofstream(junk) << "this is not a database, just text that is long enough to matter......";
  }
  EXPECT_THROW(SqliteCheckpointStore{junk}, UserError);
  EXPECT_THROW(positions_from_json("{\"0\":x}"), UserError);
}

}  // namespace
}  // namespace pairflow::stream

namespace pairflow::stream {
namespace {

TEST(BinaryCodecTransport, EncodesEveryTopicItCanAndChecksWhatJobsEncoded) {
  MemorySink inner;
  BinaryEncodingSink sink(inner);
  sink.produce("features.z", "A", R"({"ts":1,"z":-0.5,"sym":"A"})");  // flat: a record
  sink.produce("features.z", "A", R"({"ts":1,"z":[1,2]})");           // nested: stays JSON
  sink.produce("dlq.job", "A", R"({"error":"x"})");                   // dead letters stay JSON
  sink.produce("bars.1m", "A",
               R"({"ts":60,"symbol":"A","open":1,"high":2,"low":0.5,"close":1.5,"volume":10,)"
               R"("vwap":1.2,"count":7})");
  const std::string tick =
      *json_to_binary(Schema::kTick, R"({"ts":1,"symbol":"A","price":1,"size":1})");
  sink.produce("ticks", "A", tick);  // already binary, right schema: as it is
  ASSERT_EQ(inner.records.size(), 5u);
  EXPECT_EQ(*binary_schema(inner.records[0].payload), Schema::kRecord);
  EXPECT_EQ(*binary_to_json(inner.records[0].payload), R"({"ts":1,"z":-0.5,"sym":"A"})");
  EXPECT_EQ(inner.records[1].payload, R"({"ts":1,"z":[1,2]})");
  EXPECT_EQ(inner.records[2].payload, R"({"error":"x"})");
  EXPECT_EQ(*binary_schema(inner.records[3].payload), Schema::kBar);
  EXPECT_EQ(inner.records[4].payload, tick);
  // A job bug, not bad input: a binary payload of another schema, a JSON one that does not fit.
  EXPECT_THROW(sink.produce("bars.1m", "A", tick), UserError);
  EXPECT_THROW(sink.produce("features.z", "A", tick), UserError);
  EXPECT_THROW(sink.produce("ticks", "A", R"({"ts":1})"), UserError);
}

TEST(BinaryCodecTransport, DecodesInputUnlessTheJobReadsBinary) {
  const std::string tick =
      *json_to_binary(Schema::kTick, R"({"ts":1,"symbol":"A","price":1,"size":1})");
  std::vector<stream::Message> input = {stream::Message{.topic = "ticks", .payload = tick}};
  for (bool decode : {true, false}) {
    VectorSource inner(input);
    BinaryDecodingSource source(inner, decode);
    MessageBatch out;
    source.poll(out, 10, 0);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].payload,
              decode ? R"({"ts":1,"symbol":"A","price":1,"size":1,"bid":null,"ask":null})" : tick);
  }
}

}  // namespace
}  // namespace pairflow::stream

namespace pairflow::stream {
namespace {}  // namespace
}  // namespace pairflow::stream

namespace pairflow::stream {
namespace {

// A JSON list of `n` pseudo-random doubles: a state that compresses about 2x.
std::string big_state(int n, std::uint64_t seed) {
  std::string state = "[";
  for (int i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    state += fmt::format("{}{}", i ? "," : "", json_number(static_cast<double>(seed >> 11) * 1e-9));
  }
  return state + "]";
}

// The store re-serializes the state (simdjson's minify): compare values, not text.
void expect_same_values(const std::string& expected, const std::string& actual) {
  simdjson::dom::parser a, b;
  simdjson::dom::array before = a.parse(expected).get_array().value();
  simdjson::dom::array after = b.parse(actual).get_array().value();
  ASSERT_EQ(after.size(), before.size());
  std::size_t differ = 0;
  for (auto i = before.begin(), k = after.begin(); i != before.end(); ++i, ++k) {
    differ += (*i).get_double().value() != (*k).get_double().value();
  }
  EXPECT_EQ(differ, 0u);
}

TEST(KafkaCheckpointStore, KeepsStatesLargerThanOneMegabyteAndSurvivesAHalfWrittenOne) {
  // Per-pair windows of many active pairs make states of megabytes: past the 1 MB a broker takes
  // per message by default, which would fail the job at its first checkpoint.
  KafkaMockCluster cluster(1, {{"checkpoints", 1}});
  const std::string state9 = big_state(110000, 42), state10 = big_state(100000, 7);
  ASSERT_GT(state9.size(), 2 * KafkaCheckpointStore::kMaxPart);
  auto load = [&] { return KafkaCheckpointStore(cluster.bootstrap(), "checkpoints").load("j@g"); };
  KafkaCheckpointStore store(cluster.bootstrap(), "checkpoints");
  store.save("j@g", Checkpoint{.positions = {{0, 17}, {3, 5}}, .state = state9, .sequence = 9});
  auto loaded = load();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->positions, (Positions{{0, 17}, {3, 5}}));
  EXPECT_EQ(loaded->sequence, 9u);
  expect_same_values(state9, loaded->state);

  store.save("j@g", Checkpoint{.positions = {{0, 18}}, .state = state10, .sequence = 10});
  // Save 11 dies after its first part: checkpoint 10 is still whole.
  KafkaSink raw(cluster.bootstrap());
  raw.produce("checkpoints", KafkaCheckpointStore::part_key("j@g", 1, 0), "11\n[1,2");
  raw.flush();
  loaded = load();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->sequence, 10u);
  EXPECT_EQ(loaded->positions, (Positions{{0, 18}}));
  expect_same_values(state10, loaded->state);

  // A small checkpoint after big ones is one message again, and the latest.
  store.save("j@g", Checkpoint{.positions = {{0, 19}}, .state = "[1.5]", .sequence = 11});
  loaded = load();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->sequence, 11u);
  EXPECT_EQ(loaded->state, "[1.5]");
  EXPECT_FALSE(KafkaCheckpointStore(cluster.bootstrap(), "checkpoints").load("other").has_value());
}

}  // namespace
}  // namespace pairflow::stream

namespace pairflow::stream {
namespace {

// A log with an identity, like a Kafka topic: a cluster id, log start / end per partition, and
// readable messages by offset (the partition's messages are `messages` with offsets from 0).
class FakeLog : public VectorSource {
 public:
  FakeLog(std::string cluster, std::vector<stream::Message> messages, std::int64_t log_start = 0)
      : VectorSource(slice(messages, log_start)),
        cluster_(std::move(cluster)),
        all_(std::move(messages)),
        log_start_(log_start) {}
  std::string cluster_id() override { return cluster_; }
  std::optional<LogPartition> describe_partition(std::int32_t p, bool) override {
    if (p != 0) return std::nullopt;
    return LogPartition{"in", 0, log_start_, static_cast<std::int64_t>(all_.size())};
  }
  std::optional<std::uint32_t> fingerprint_at(std::int32_t p, std::int64_t offset) override {
    if (p != 0 || offset < log_start_ || offset >= static_cast<std::int64_t>(all_.size()))
      return std::nullopt;
    return fingerprint(all_[offset].key, all_[offset].payload, all_[offset].log_time_ms);
  }

 private:
  static std::vector<stream::Message> slice(const std::vector<stream::Message>& m,
                                            std::int64_t from) {
    return {m.begin() + from, m.end()};
  }
  std::string cluster_;
  std::vector<stream::Message> all_;
  std::int64_t log_start_;
};

std::vector<stream::Message> sums(int n, int base) {
  std::vector<stream::Message> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(stream::Message{.topic = "in",
                                  .key = "k",
                                  .payload = fmt::format(R"({{"i":{}}})", base + i),
                                  .partition = 0,
                                  .offset = i});
  }
  return out;
}

// Runs SumJob over `log` with the checkpoint in `db`; returns the job's final sum, or the error.
std::string run_sum(const std::string& db, Source& log, OffsetReset reset, int* sum = nullptr,
                    bool* restored_state = nullptr) {
  SqliteCheckpointStore store(db);
  SumJob job;
  job.sum = 0;
  MemorySink sink;
  JobRunOptions options{.job_name = "sum", .output_topic = "out", .batch_size = 3};
  options.offset_reset = reset;
  try {
    JobRunner(job, log, sink, &store, options).run();
  } catch (const UserError& e) {
    return e.what();
  }
  if (sum) *sum = job.sum;
  if (restored_state) *restored_state = job.recovered;
  return "";
}

TEST(CheckpointOrigin, ARecreatedTopicWithAsManyMessagesIsNotSkipped) {
  const std::string db = temp_db("origin_recreated.db");
  FakeLog first("cluster-a", sums(10, 0));
  EXPECT_EQ(run_sum(db, first, OffsetReset::kFail), "");
  // Same cluster, same topic name, same length: only the messages differ (recreated, refilled).
  FakeLog second("cluster-a", sums(12, 100));
  const std::string error = run_sum(db, second, OffsetReset::kFail);
  EXPECT_NE(error.find("in[0]: the message at offset 9 is not the one the job processed"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("--reset-checkpoint"), std::string::npos);
  int sum = -1;
  FakeLog third("cluster-a", sums(12, 100));
  EXPECT_EQ(run_sum(db, third, OffsetReset::kEarliest, &sum), "");
  EXPECT_EQ(sum, 100 * 12 + 66);  // every new message once, the old state (45) discarded
}

TEST(CheckpointOrigin, SameLogResumesAndOffsetsBeyondTheEndAreNamed) {
  const std::string db = temp_db("origin_same.db");
  auto messages = sums(10, 0);
  FakeLog first("cluster-a", {messages.begin(), messages.begin() + 6});
  EXPECT_EQ(run_sum(db, first, OffsetReset::kFail), "");
  int sum = -1;
  FakeLog grown("cluster-a", messages);  // four more messages on the same log
  EXPECT_EQ(run_sum(db, grown, OffsetReset::kFail, &sum), "");
  EXPECT_EQ(sum, 45);  // the saved 15 plus 6..9
  FakeLog shorter("cluster-a", sums(4, 0));
  const std::string error = run_sum(db, shorter, OffsetReset::kFail);
  EXPECT_NE(error.find("offset 10 is beyond the log end 4"), std::string::npos) << error;
  FakeLog other("cluster-b", messages);
  EXPECT_NE(run_sum(db, other, OffsetReset::kFail).find("saved against Kafka cluster 'cluster-a'"),
            std::string::npos);
}

TEST(CheckpointOrigin, DeletedOffsetsFollowAutoOffsetResetAndKeepTheState) {
  const std::string db = temp_db("origin_retention.db");
  auto messages = sums(20, 0);
  FakeLog first("cluster-a", {messages.begin(), messages.begin() + 5});
  EXPECT_EQ(run_sum(db, first, OffsetReset::kFail), "");    // state 0+..+4 = 10, position 5
  FakeLog trimmed("cluster-a", messages, /*log_start=*/8);  // 5..7 expired before being read
  EXPECT_NE(run_sum(db, trimmed, OffsetReset::kFail).find("offsets 5 to 7 were deleted"),
            std::string::npos);
  int sum = -1;
  FakeLog again("cluster-a", messages, 8);
  EXPECT_EQ(run_sum(db, again, OffsetReset::kEarliest, &sum), "");
  EXPECT_EQ(sum, 10 + (8 + 19) * 12 / 2);  // the state kept, reading resumes at the log start
}

TEST(CheckpointOrigin, SurvivesTheKafkaRecordForm) {
  Checkpoint c;
  c.positions = {{0, 10}, {3, 7}};
  c.state = R"({"x":1})";
  c.sequence = 4;
  c.origin.cluster = "abc";
  c.origin.partitions[0] = {"ticks", 0, 2, 10, 9, 12345};
  c.origin.partitions[3] = {"ticks", 3, 0, 7, 6, 99};
  const Checkpoint back = checkpoint_from_json(checkpoint_to_json(c));
  EXPECT_EQ(back.origin.cluster, "abc");
  EXPECT_EQ(back.origin.partitions.at(3).last_fingerprint, 99u);
  EXPECT_EQ(back.origin.partitions.at(0).log_start, 2);
  EXPECT_EQ(back.positions, c.positions);
  // An old record without an origin still loads (its origin is empty: only the log end checked).
  EXPECT_TRUE(checkpoint_from_json(R"({"positions":{"0":1},"state":{},"sequence":1})")
                  .origin.partitions.empty());
}

TEST(CrashGuard, KeepsWhatWasInHandAcrossACrashAndLocks) {
  const std::string path = temp_db("guard.inflight");
  {
    CrashGuard guard(path);
    EXPECT_FALSE(guard.left_behind());
    EXPECT_THROW(CrashGuard second(path), UserError);  // one holder at a time
    guard.mark({{{0, 10, 19}, {2, 4, 4}}, false, 0});
    // The process "dies" here: the record stays in the file.
  }
  CrashGuard again(path);
  ASSERT_TRUE(again.left_behind());
  EXPECT_FALSE(again.left_behind()->single);
  ASSERT_EQ(again.left_behind()->ranges.size(), 2u);
  EXPECT_EQ(again.left_behind()->ranges[1].partition, 2);
  again.mark({{{0, 12, 12}}, true, 2});  // a longer record first, then a shorter one
  again.clear();
}

}  // namespace
}  // namespace pairflow::stream
