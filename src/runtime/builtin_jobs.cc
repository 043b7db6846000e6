#include "runtime/builtin_jobs.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <set>

#include "features/feature_pipeline.h"
#include "features/stream_join.h"
#include "features/time_bars.h"
#include "model/json.h"
#include "model/json_parse.h"
#include "runtime/pipeline.h"

namespace pairflow::runtime {
namespace {

// Reads params JSON: string and array-of-string values by key.
class Params {
 public:
  explicit Params(const std::string& json) {
    if (parser_.parse(json).get(root_) || !root_.is_object()) {
      throw jobs::JobError(fmt::format("params are not a JSON object: {}", json));
    }
  }
  std::string string(const char* key, const std::string& fallback) {
    std::string_view v;
    simdjson::dom::element e;
    if (root_[key].get(e)) return fallback;
    if (e.get_string().get(v))
      throw jobs::JobError(fmt::format("param '{}' must be a string", key));
    return std::string(v);
  }
  std::vector<std::string> strings(const char* key) {
    std::vector<std::string> out;
    simdjson::dom::element e;
    if (root_[key].get(e)) return out;
    simdjson::dom::array a;
    if (e.get_array().get(a))
      throw jobs::JobError(fmt::format("param '{}' must be a list of strings", key));
    for (auto item : a) {
      std::string_view v;
      if (item.get_string().get(v))
        throw jobs::JobError(fmt::format("param '{}' must be a list of strings", key));
      out.emplace_back(v);
    }
    return out;
  }

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
};

class BarsJob : public jobs::Job {
 public:
  void setup(jobs::JobContext& ctx) override {
    Params params(ctx.params_json());
    std::string interval = params.string("interval", "1m");
    auto parsed = parse_duration(interval);
    if (!parsed) throw jobs::JobError(fmt::format("bars: interval: {}", parsed.status().message()));
    interval_ = *parsed;
  }
  void process(const jobs::Message& m, jobs::JobContext& ctx) override {
    auto tick = parser_.parse(m.payload, symbols_);
    if (!tick) throw jobs::JobError(tick.status().message());
    if (!(tick->price > 0) || !(tick->size >= 0))
      throw jobs::JobError("price must be > 0 and size >= 0");
    while (bars_.size() <= tick->symbol) {
      bars_.push_back(std::make_unique<features::TimeBarAggregator>(interval_));
    }
    Status s = bars_[tick->symbol]->on_tick(
        *tick, [&](Timestamp, std::span<const Bar> slice) { emit(slice, ctx); });
    if (!s) throw jobs::JobError(s.message());
  }
  void finish(jobs::JobContext& ctx) override {
    for (auto& agg : bars_) {
      agg->flush([&](Timestamp, std::span<const Bar> slice) { emit(slice, ctx); });
    }
  }

 private:
  void emit(std::span<const Bar> slice, jobs::JobContext& ctx) {
    for (const Bar& bar : slice) ctx.emit("", symbols_.name(bar.symbol), to_json(bar, symbols_));
  }
  TickParser parser_;
  SymbolTable symbols_;
  Timestamp interval_ = kNanosPerMinute;
  // One aggregator per symbol: a symbol's bar closes when that symbol's event time passes its end,
  // which needs only per-key order - what a partitioned Kafka topic keyed by symbol guarantees.
  std::vector<std::unique_ptr<features::TimeBarAggregator>> bars_;
};

// features  ticks -> features.<name>: FeaturePipeline; params {bars = "1m" | "tick:N" |
// "volume:X" | "dollar:X", indicators = "ema:10,rsi:14,...", lateness = "0"}. One JSON row per
// closed bar: {ts, symbol, open, high, low, close, volume, vwap, count, <indicator columns>}
// (null while an indicator warms up). A late tick goes to the DLQ with its reason.
class FeaturesJob : public jobs::Job {
 public:
  void setup(jobs::JobContext& ctx) override {
    Params params(ctx.params_json());
    auto bars = features::parse_bar_spec(params.string("bars", "1m"));
    if (!bars) throw jobs::JobError(fmt::format("features: {}", bars.status().message()));
    const std::string lateness = params.string("lateness", "0");
    if (lateness != "0") {
      auto l = parse_duration(lateness);
      if (!l) throw jobs::JobError(fmt::format("features: lateness: {}", l.status().message()));
      bars->allowed_lateness = *l;
    }
    auto specs = features::parse_indicators(params.string("indicators", ""));
    if (!specs) throw jobs::JobError(fmt::format("features: {}", specs.status().message()));
    pipeline_ = std::make_unique<features::FeaturePipeline>(*bars, *specs, &symbols_);
  }
  void process(const jobs::Message& m, jobs::JobContext& ctx) override {
    auto tick = parser_.parse(m.payload, symbols_);
    if (!tick) throw jobs::JobError(tick.status().message());
    Status s = pipeline_->on_tick(
        *tick, [&](const Bar& b, std::span<const double> v) { emit(b, v, ctx); });
    if (!s) throw jobs::JobError(s.message());
  }
  void finish(jobs::JobContext& ctx) override {
    pipeline_->flush([&](const Bar& b, std::span<const double> v) { emit(b, v, ctx); });
  }

 private:
  void emit(const Bar& b, std::span<const double> values, jobs::JobContext& ctx) {
    std::string json = to_json(b, symbols_);
    json.pop_back();  // the closing brace: append the indicator columns
    const auto& specs = pipeline_->engine().specs();
    for (std::size_t i = 0; i < values.size(); ++i)
      json += fmt::format(",{}:{}", json_string(specs[i].column), json_number(values[i]));
    json += '}';
    ctx.emit("", symbols_.name(b.symbol), json);
  }
  TickParser parser_;
  SymbolTable symbols_;
  std::unique_ptr<features::FeaturePipeline> pipeline_;
};

// join  several feature topics -> one row per driving row (the first input) with the columns of
// every input, aligned by event time per symbol (features/stream_join.h). params {columns =
// {"<topic>" = ["col", ...], ...} for every input, mode = "asof" | "interval", tolerance = "5m",
// lateness = "0", idle_timeout = "0"}. Late rows are dead letters with their reason.
class JoinJob : public jobs::Job {
 public:
  void setup(jobs::JobContext& ctx) override {
    simdjson::dom::parser parser;
    simdjson::dom::object params, columns;
    if (parser.parse(ctx.params_json()).get_object().get(params) ||
        params["columns"].get_object().get(columns)) {
      throw jobs::JobError("join: params.columns must map each input topic to its column names");
    }
    auto duration = [&](const char* key, Timestamp fallback) -> Timestamp {
      std::string_view text;
      if (params[key].get_string().get(text)) return fallback;
      if (text == "0") return 0;
      auto d = parse_duration(text);
      if (!d) throw jobs::JobError(fmt::format("join: {}: {}", key, d.status().message()));
      return *d;
    };
    std::string_view mode = "asof";
    if (params["mode"].get_string().get(mode)) mode = "asof";
    features::JoinConfig config;
    if (mode == "asof") {
      config.mode = features::JoinMode::kAsOf;
    } else if (mode == "interval") {
      config.mode = features::JoinMode::kInterval;
    } else {
      throw jobs::JobError(fmt::format("join: mode must be 'asof' or 'interval', got '{}'", mode));
    }
    config.tolerance = duration("tolerance", config.mode == features::JoinMode::kAsOf ? -1 : 0);
    config.idle_timeout = duration("idle_timeout", 0);
    const Timestamp lateness = duration("lateness", 0);
    std::vector<features::JoinInput> inputs;
    std::set<std::string> seen_columns;
    for (auto [topic, list] : columns) {
      simdjson::dom::array names;
      if (list.get_array().get(names))
        throw jobs::JobError("join: params.columns values must be lists");
      features::JoinInput input{
          .name = std::string(topic), .width = 0, .allowed_lateness = lateness};
      std::vector<std::string> cols;
      for (auto n : names) {
        std::string_view name;
        if (n.get_string().get(name)) throw jobs::JobError("join: column names must be strings");
        if (!seen_columns.insert(std::string(name)).second) {
          throw jobs::JobError(fmt::format("join: column '{}' appears in two inputs", name));
        }
        cols.emplace_back(name);
      }
      input.width = static_cast<int>(cols.size());
      topics_.push_back(input.name);
      columns_.push_back(std::move(cols));
      inputs.push_back(std::move(input));
    }
    if (inputs.size() < 2)
      throw jobs::JobError("join: needs at least two inputs in params.columns");
    join_ = std::make_unique<features::StreamJoin>(std::move(inputs), config);
  }
  void process(const jobs::Message& m, jobs::JobContext& ctx) override {
    std::size_t input = 0;
    while (input < topics_.size() && topics_[input] != m.topic) ++input;
    if (input == topics_.size())
      throw jobs::JobError(fmt::format("join: no columns configured for topic '{}'", m.topic));
    simdjson::dom::object obj;
    if (parser_.parse(m.payload).get_object().get(obj))
      throw jobs::JobError("payload is not a JSON object");
    simdjson::dom::element ts_field;
    Timestamp ts;
    std::string_view iso;
    if (obj["ts"].get(ts_field)) throw jobs::JobError("field 'ts' is missing");
    if (ts_field.is_int64()) {
      ts = ts_field.get_int64().value();
    } else if (!ts_field.get_string().get(iso)) {
      auto parsed = parse_timestamp(iso);
      if (!parsed) throw jobs::JobError(parsed.status().message());
      ts = *parsed;
    } else {
      throw jobs::JobError("field 'ts' is not a time");
    }
    std::string_view symbol;
    if (obj["symbol"].get_string().get(symbol)) throw jobs::JobError("field 'symbol' is missing");
    values_.clear();
    for (const std::string& column : columns_[input]) {
      simdjson::dom::element e;
      double v = kNaN;
      if (!obj[column].get(e) && !e.is_null() && e.get_double().get(v)) {
        throw jobs::JobError(fmt::format("field '{}' is not a number", column));
      }
      values_.push_back(v);
    }
    Status s = join_->add(input, ts, symbols_.intern(symbol), values_,
                          [&](const features::JoinedRow& row) { emit(row, ctx); });
    if (!s) throw jobs::JobError(s.message());
  }
  void finish(jobs::JobContext& ctx) override {
    join_->flush([&](const features::JoinedRow& row) { emit(row, ctx); });
  }

 private:
  void emit(const features::JoinedRow& row, jobs::JobContext& ctx) {
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

class TraderJob : public jobs::Job, private PipelineObserver {
 public:
  void setup(jobs::JobContext& ctx) override {
    Params params(ctx.params_json());
    const std::string config_path = params.string("config", "");
    try {
      config_ = config_path.empty() ? PipelineConfig{} : load_config(config_path);
      apply_overrides(config_, params.strings("set"));
    } catch (const UserError& e) {
      throw jobs::JobError(fmt::format("trader: {}", e.what()));
    }
    ctx_ = &ctx;
    pipeline_ = std::make_unique<Pipeline>(config_, symbols_, static_cast<PipelineObserver*>(this));
  }
  void process(const jobs::Message& m, jobs::JobContext& ctx) override {
    ctx_ = &ctx;
    auto tick = parser_.parse(m.payload, symbols_);
    if (!tick) throw jobs::JobError(tick.status().message());
    Status s = pipeline_->on_tick(*tick);
    if (!s) throw jobs::JobError(s.message());
  }
  void finish(jobs::JobContext& ctx) override {
    ctx_ = &ctx;
    pipeline_->finish();
    ctx.emit("", "summary", pipeline_->summary().to_json());
  }

 private:
  void on_signal(const Signal& s) override {
    ctx_->emit("pairs.signals", std::to_string(s.pair), to_json(s));
  }
  void on_order(const Order& o) override {
    ctx_->emit("orders", symbols_.name(o.symbol), to_json(o, symbols_));
  }
  void on_execution(const Execution& e) override {
    ctx_->emit("executions", symbols_.name(e.symbol), to_json(e, symbols_));
  }
  void on_pnl(const PnL& p) override { ctx_->emit("pnl", "portfolio", to_json(p)); }
  void on_control(const screen::PairControl& c) override {
    ctx_->emit("pairs.control", std::to_string(c.pair), screen::to_json(c, symbols_));
  }

  PipelineConfig config_;
  SymbolTable symbols_;
  TickParser parser_;
  std::unique_ptr<Pipeline> pipeline_;
  jobs::JobContext* ctx_ = nullptr;
};

}  // namespace

std::unique_ptr<jobs::Job> make_builtin_job(const std::string& name) {
  if (name == "bars") return std::make_unique<BarsJob>();
  if (name == "trader") return std::make_unique<TraderJob>();
  if (name == "features") return std::make_unique<FeaturesJob>();
  if (name == "join") return std::make_unique<JoinJob>();
  throw jobs::JobError(
      fmt::format("unknown builtin job '{}' (builtins: bars, features, join, trader)", name));
}

}  // namespace pairflow::runtime
