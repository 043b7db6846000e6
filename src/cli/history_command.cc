// `pairflow history`: what a history file (the `history` job, `--history FILE`) holds.
//   history topics --db FILE [--json]                 topics, tables, rows, keys, time ranges
//   history query  --db FILE --topic T [--symbol S] [--from T] [--to T] [--limit N] [--csv|--json]
//   history prune  --db FILE (--older-than AGE | --before T) [--topic T]
// Bad arguments and unknown topics are one-line errors, exit 2. Main thread.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>

#include "base/json_writer.h"
#include "base/time.h"
#include "cli/commands.h"
#include "history/store.h"

namespace pairflow::cli {
namespace {

Timestamp parse_time_option(const std::string& option, const std::string& text) {
  auto t = parse_timestamp(text);
  if (!t)
    throw UserError(
        fmt::format("history: {} '{}': {} (ISO-8601 such as 2024-01-02T14:30:00Z, or "
                    "epoch seconds/ms/us/ns)",
                    option, text, t.status().message()));
  return *t;
}

void require_file(const std::string& db) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db, ec))
    throw UserError(fmt::format("history: {}: no such history file", db));
}

void csv_field(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

class Output {
 public:
  ~Output() { flush(); }
  std::string& buffer() { return buffer_; }
  void maybe_flush() {
    if (buffer_.size() >= (1u << 20)) flush();
  }
  void flush() {
    if (!buffer_.empty() &&
        std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) != buffer_.size())
      throw UserError("history: cannot write to standard output");
    buffer_.clear();
  }

 private:
  std::string buffer_;
};

void run_query(const std::string& db, const history::Query& q, bool json) {
  require_file(db);
  history::HistoryReader reader(db);
  history::Cursor cursor = reader.query(q);
  const auto& columns = cursor.columns();
  Output output;
  std::string& out = output.buffer();
  if (!json) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c) out += ',';
      csv_field(out, columns[c].name);
    }
    out += '\n';
  }
  std::uint64_t rows = 0;
  while (cursor.next()) {
    ++rows;
    if (json) {
      cursor.append_json(out);
      out += '\n';
    } else {
      for (int c = 0; c < static_cast<int>(columns.size()); ++c) {
        if (c) out += ',';
        if (cursor.is_null(c)) continue;
        if (c == 0) {
          out += format_timestamp(cursor.integer(0));
        } else if (columns[c].kind == history::ColumnKind::kBool) {
          out += cursor.integer(c) ? "true" : "false";
        } else if (cursor.is_real(c)) {
          out += json_number(cursor.real(c));  // shortest form that reads back the same double
        } else {
          csv_field(out, cursor.text(c));
        }
      }
      out += '\n';
    }
    output.maybe_flush();
  }
  if (rows == 0 && q.key) {
    // A known topic, but nothing for this key in the range: say so on stderr (the output stays
    // valid CSV/JSON).
    std::fprintf(stderr, "history: no rows of %s for '%s' in the range\n", q.topic.c_str(),
                 q.key->c_str());
  }
}

void run_topics(const std::string& db, bool json) {
  require_file(db);
  history::HistoryReader reader(db);
  const auto topics = reader.topics();
  if (json) {
    std::string out = "[";
    for (std::size_t i = 0; i < topics.size(); ++i) {
      const auto& t = topics[i];
      out += fmt::format(
          R"J({}{{"topic":"{}","table":"{}","rows":{},"keys":{},"first":"{}","last":"{}"}})J",
          i ? "," : "", t.topic, t.table, t.rows, t.keys, format_timestamp(t.first),
          format_timestamp(t.last));
    }
    std::printf("%s]\n", out.c_str());
    return;
  }
  std::printf("%-20s %-14s %12s %7s  %-30s  %-30s\n", "topic", "table", "rows", "keys", "first",
              "last");
  for (const auto& t : topics) {
    std::printf("%-20s %-14s %12llu %7llu  %-30s  %-30s\n", t.topic.c_str(), t.table.c_str(),
                static_cast<unsigned long long>(t.rows), static_cast<unsigned long long>(t.keys),
                format_timestamp(t.first).c_str(), format_timestamp(t.last).c_str());
  }
  if (topics.empty()) std::printf("(no rows)\n");
}

}  // namespace

void register_history(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "history", "read and prune a history file (written by the history job or --history)");
  cmd->require_subcommand(1);
  struct Args {
    std::string db, topic, symbol, from, to, older_than, before;
    std::int64_t limit = 0;
    bool csv = false, json = false;
  };
  auto a = std::make_shared<Args>();

  auto* topics =
      cmd->add_subcommand("topics", "what is stored: rows, keys and time range per topic");
  topics->add_option("--db", a->db, "history file")->required();
  topics->add_flag("--json", a->json, "print JSON");
  topics->callback([a] { run_topics(a->db, a->json); });

  auto* query =
      cmd->add_subcommand("query", "rows of one topic (and symbol or pair), in time order");
  query->add_option("--db", a->db, "history file")->required();
  query->add_option("--topic", a->topic, "topic, e.g. bars.1m")->required();
  query->add_option("--symbol,--key", a->symbol, "one symbol (or pair id, or message key)");
  query->add_option("--from", a->from, "first event time (inclusive)");
  query->add_option("--to", a->to, "end event time (exclusive)");
  query->add_option("--limit", a->limit, "at most this many rows (0 = all)")
      ->check(CLI::Range(std::int64_t{0}, std::numeric_limits<std::int64_t>::max()));
  auto* csv = query->add_flag("--csv", a->csv, "CSV with a header (the default)");
  auto* json = query->add_flag("--json", a->json, "one JSON object per line, as recorded");
  csv->excludes(json);
  query->callback([a] {
    history::Query q;
    q.topic = a->topic;
    if (!a->symbol.empty()) q.key = a->symbol;
    if (!a->from.empty()) q.from = parse_time_option("--from", a->from);
    if (!a->to.empty()) q.to = parse_time_option("--to", a->to);
    if (q.from >= q.to) throw UserError("history: --from must be before --to");
    q.limit = static_cast<std::size_t>(a->limit);
    run_query(a->db, q, a->json);
  });

  auto* prune = cmd->add_subcommand(
      "prune", "delete rows older than an age (before the newest row) or a time");
  prune->add_option("--db", a->db, "history file")->required();
  auto* age = prune->add_option("--older-than", a->older_than,
                                "an age such as 30d or 12h, before the newest event time stored");
  auto* before = prune->add_option("--before", a->before, "an event time");
  age->excludes(before);
  prune->add_option("--topic", a->topic, "only this topic");
  prune->callback([a] {
    if (a->older_than.empty() && a->before.empty())
      throw UserError("history prune: give --older-than AGE or --before TIME");
    require_file(a->db);
    history::HistoryReader reader(a->db, true);
    Timestamp cut;
    if (!a->older_than.empty()) {
      auto age = parse_duration(a->older_than);
      if (!age || *age <= 0)
        throw UserError(
            fmt::format("history prune: --older-than '{}' is not a positive duration "
                        "such as 30d or 12h",
                        a->older_than));
      auto newest = reader.newest(a->topic);
      if (!newest) {
        std::printf("nothing stored%s; nothing pruned\n",
                    a->topic.empty() ? "" : (" for " + a->topic).c_str());
        return;
      }
      cut = *newest - *age;
    } else {
      cut = parse_time_option("--before", a->before);
    }
    if (!a->topic.empty()) {
      history::Query probe;
      probe.topic = a->topic;
      probe.limit = 1;
      (void)reader.query(probe);  // an unknown topic is an error, not "0 rows deleted"
    }
    const auto deleted = reader.prune(cut, a->topic);
    std::printf("deleted %llu rows before %s\n", static_cast<unsigned long long>(deleted),
                format_timestamp(cut).c_str());
  });
}

}  // namespace pairflow::cli
