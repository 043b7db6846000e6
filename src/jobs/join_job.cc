// The built-in `join` job (see jobs/builtin_jobs.h).
#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "features/stream_join.h"
#include "jobs/factories.h"
#include "jobs/params.h"
#include "model/json.h"
#include "stream/job.h"

namespace pairflow::jobs {
namespace {

// join  several feature topics -> one row per driving row (the first input) with the columns of
// every input, aligned by event time per symbol (features/stream_join.h). params {columns =
// {"<topic>" = ["col", ...], ...} for every input, mode = "asof" | "interval", tolerance = "5m",
// lateness = "0", idle_timeout = "0"}. Late rows are dead letters with their reason.
class JoinJob : public stream::Job {
 public:
  void setup(stream::JobContext& ctx) override {
    Params params("join", ctx.params_json());
    simdjson::dom::object columns;
    if (!params.element("columns") || params.element("columns")->get_object().get(columns)) {
      throw stream::JobError("join: params.columns must map each input topic to its column names");
    }
    const std::string mode = params.string("mode", "asof");
    features::JoinConfig config;
    if (mode == "asof") {
      config.mode = features::JoinMode::kAsOf;
    } else if (mode == "interval") {
      config.mode = features::JoinMode::kInterval;
    } else {
      throw stream::JobError(
          fmt::format("join: mode must be 'asof' or 'interval', got '{}'", mode));
    }
    config.tolerance =
        params.duration("tolerance", config.mode == features::JoinMode::kAsOf ? -1 : 0);
    config.idle_timeout = params.duration("idle_timeout", 0);
    const Timestamp lateness = params.duration("lateness", 0);
    std::vector<features::JoinInput> inputs;
    std::set<std::string> seen_columns;
    for (auto [topic, list] : columns) {
      simdjson::dom::array names;
      if (list.get_array().get(names))
        throw stream::JobError("join: params.columns values must be lists");
      features::JoinInput input{
          .name = std::string(topic), .width = 0, .allowed_lateness = lateness};
      std::vector<std::string> cols;
      for (auto n : names) {
        std::string_view name;
        if (n.get_string().get(name)) throw stream::JobError("join: column names must be strings");
        if (!seen_columns.insert(std::string(name)).second) {
          throw stream::JobError(fmt::format("join: column '{}' appears in two inputs", name));
        }
        cols.emplace_back(name);
      }
      input.width = static_cast<int>(cols.size());
      topics_.push_back(input.name);
      columns_.push_back(std::move(cols));
      inputs.push_back(std::move(input));
    }
    if (inputs.size() < 2)
      throw stream::JobError("join: needs at least two inputs in params.columns");
    join_ = std::make_unique<features::StreamJoin>(std::move(inputs), config);
  }
  void process(const stream::Message& m, stream::JobContext& ctx) override {
    std::size_t input = 0;
    while (input < topics_.size() && topics_[input] != m.topic) ++input;
    if (input == topics_.size())
      throw stream::JobError(fmt::format("join: no columns configured for topic '{}'", m.topic));
    simdjson::dom::object obj;
    if (parser_.parse(m.payload).get_object().get(obj))
      throw stream::JobError("payload is not a JSON object");
    simdjson::dom::element ts_field;
    Timestamp ts;
    std::string_view iso;
    if (obj["ts"].get(ts_field)) throw stream::JobError("field 'ts' is missing");
    if (ts_field.is_int64()) {
      ts = ts_field.get_int64().value();
    } else if (!ts_field.get_string().get(iso)) {
      auto parsed = parse_timestamp(iso);
      if (!parsed) throw stream::JobError(parsed.status().message());
      ts = *parsed;
    } else {
      throw stream::JobError("field 'ts' is not a time");
    }
    std::string_view symbol;
    if (obj["symbol"].get_string().get(symbol)) throw stream::JobError("field 'symbol' is missing");
    values_.clear();
    for (const std::string& column : columns_[input]) {
      simdjson::dom::element e;
      double v = kNaN;
      if (!obj[column].get(e) && !e.is_null() && e.get_double().get(v)) {
        throw stream::JobError(fmt::format("field '{}' is not a number", column));
      }
      values_.push_back(v);
    }
    Status s = join_->add(input, ts, symbols_.intern(symbol), values_,
                          [&](const features::JoinedRow& row) { emit(row, ctx); });
    if (!s) throw stream::JobError(s.message());
  }
  void finish(stream::JobContext& ctx) override {
    join_->flush([&](const features::JoinedRow& row) { emit(row, ctx); });
  }

 private:
  void emit(const features::JoinedRow& row, stream::JobContext& ctx) {
    std::string json =
        fmt::format(R"({{"ts":{},"symbol":{})", row.ts, json_string(symbols_.name(row.key)));
    std::size_t i = 0;
    for (const auto& cols : columns_) {
      for (const auto& c : cols)
        json += fmt::format(",{}:{}", json_string(c), json_number(row.values[i++]));
    }
    json += '}';
    ctx.emit("", symbols_.name(row.key), json);
  }
  simdjson::dom::parser parser_;
  SymbolTable symbols_;
  std::vector<std::string> topics_;
  std::vector<std::vector<std::string>> columns_;
  std::vector<double> values_;
  std::unique_ptr<features::StreamJoin> join_;
};

}  // namespace

std::unique_ptr<stream::Job> make_join_job() { return std::make_unique<JoinJob>(); }

}  // namespace pairflow::jobs
