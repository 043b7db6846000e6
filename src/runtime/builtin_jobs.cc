#include "runtime/builtin_jobs.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "features/feature_pipeline.h"
#include "features/stream_join.h"
#include "features/time_bars.h"
#include "model/json.h"
#include "model/json_parse.h"
#include "pairs/pair_model.h"
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
    std::string why;
    if (auto reason = check_tick_values(*tick, &why))
      throw jobs::JobError(fmt::format("{}: {}", reject_reason_name(*reason), why));
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

// pair_router  pairs.control + bars.* -> pairs.bars keyed by pair id: forwards each control record
// and, for every active pair, the bars of its two legs, so that the pair actors can run as a
// consumer group partitioned by pair id (each instance owns some pairs and sees all of their
// legs' bars). params {control = "pairs.control"}. State: the active pairs (checkpointed).
class PairRouterJob : public jobs::Job {
 public:
  void setup(jobs::JobContext& ctx) override {
    Params params(ctx.params_json());
    control_topic_ = params.string("control", "pairs.control");
  }
  void process(const jobs::Message& m, jobs::JobContext& ctx) override {
    simdjson::dom::object obj;
    if (parser_.parse(m.payload).get_object().get(obj))
      throw jobs::JobError("payload is not a JSON object");
    if (m.topic == control_topic_) {
      std::uint64_t pair;
      std::string_view action, y, x;
      if (obj["pair"].get_uint64().get(pair) || obj["action"].get_string().get(action) ||
          obj["y"].get_string().get(y) || obj["x"].get_string().get(x)) {
        throw jobs::JobError("control record needs pair, action, y and x");
      }
      if (action == "activate") {
        pairs_[pair] = {std::string(y), std::string(x)};
      } else if (action == "deactivate") {
        pairs_.erase(pair);
      } else {
        throw jobs::JobError(fmt::format("unknown control action '{}'", action));
      }
      ctx.emit("", std::to_string(pair), m.payload);
      return;
    }
    std::string_view symbol;
    std::int64_t ts;
    double close;
    if (obj["symbol"].get_string().get(symbol) || obj["ts"].get_int64().get(ts) ||
        obj["close"].get_double().get(close)) {
      throw jobs::JobError("bar needs symbol, ts (ns) and close");
    }
    for (const auto& [pair, legs] : pairs_) {
      if (legs.first != symbol && legs.second != symbol) continue;
      ctx.emit("", std::to_string(pair),
               fmt::format(R"({{"pair":{},"ts":{},"symbol":{},"close":{}}})", pair, ts,
                           json_string(symbol), json_number(close)));
    }
  }
  std::string snapshot_state() override {
    std::string out = "[";
    for (const auto& [pair, legs] : pairs_) {
      out += fmt::format("{}[{},{},{}]", out.size() > 1 ? "," : "", pair, json_string(legs.first),
                         json_string(legs.second));
    }
    return out + "]";
  }
  void restore_state(std::string_view json) override {
    simdjson::dom::array list;
    if (parser_.parse(json.data(), json.size()).get_array().get(list)) {
      throw jobs::JobError("pair_router: checkpoint state is not a list");
    }
    pairs_.clear();
    for (auto item : list) {
      simdjson::dom::array entry;
      std::uint64_t pair;
      std::string_view y, x;
      if (item.get_array().get(entry) || entry.at(0).get_uint64().get(pair) ||
          entry.at(1).get_string().get(y) || entry.at(2).get_string().get(x)) {
        throw jobs::JobError("pair_router: checkpoint state is corrupt");
      }
      pairs_[pair] = {std::string(y), std::string(x)};
    }
  }

 private:
  std::string control_topic_;
  simdjson::dom::parser parser_;
  std::map<std::uint64_t, std::pair<std::string, std::string>> pairs_;  // by pair id: ordered
};

// pair_actors  pairs.bars (keyed by pair id) -> pairs.signals: one PairModel state machine per
// active pair (rolling OLS hedge ratio, z-score, entry / exit / stop / time stop), updated when
// both legs have a bar of the same time. Runs as a consumer group: an instance owns the pairs of
// its partitions. params {window = 120}; thresholds come with each activation record. The
// checkpoint holds every actor whole (activation, window, position state, a leg's bar waiting for
// the other), so a restarted instance continues exactly where the checkpoint was taken.
class PairActorsJob : public jobs::Job {
 public:
  void setup(jobs::JobContext& ctx) override {
    simdjson::dom::parser parser;
    simdjson::dom::object params;
    if (parser.parse(ctx.params_json()).get_object().get(params)) {
      throw jobs::JobError("pair_actors: params are not an object");
    }
    std::int64_t window = 120;
    if (simdjson::dom::element e; !params["window"].get(e) && e.get_int64().get(window)) {
      throw jobs::JobError("pair_actors: window must be an integer");
    }
    if (window < 3 || window > 100000)
      throw jobs::JobError("pair_actors: window must be in [3, 100000]");
    window_ = static_cast<int>(window);
  }
  void process(const jobs::Message& m, jobs::JobContext& ctx) override {
    simdjson::dom::object obj;
    if (parser_.parse(m.payload).get_object().get(obj))
      throw jobs::JobError("payload is not a JSON object");
    std::uint64_t pair;
    if (obj["pair"].get_uint64().get(pair)) throw jobs::JobError("message needs a pair id");
    std::string_view action;
    if (!obj["action"].get_string().get(action)) {
      if (action == "deactivate") {
        actors_.erase(pair);
        return;
      }
      std::string_view y, x;
      if (obj["y"].get_string().get(y) || obj["x"].get_string().get(x)) {
        throw jobs::JobError("activation needs y and x");
      }
      pairs::PairModelConfig config;
      config.window = window_;
      auto number = [&](const char* key, double& out) {
        double v;
        if (!obj[key].get_double().get(v)) out = v;
      };
      number("entry_z", config.entry_z);
      number("exit_z", config.exit_z);
      number("stop_z", config.stop_z);
      std::int64_t hold = 0;
      if (!obj["max_hold_bars"].get_int64().get(hold))
        config.max_hold_bars = static_cast<int>(hold);
      if (!(config.exit_z >= 0 && config.exit_z < config.entry_z &&
            config.entry_z < config.stop_z)) {
        throw jobs::JobError("activation thresholds must satisfy 0 <= exit_z < entry_z < stop_z");
      }
      actors_.erase(pair);
      actors_.emplace(pair, Actor{std::string(y), std::string(x),
                                  pairs::PairModel(static_cast<PairId>(pair), config)});
      return;
    }
    auto it = actors_.find(pair);
    if (it == actors_.end()) return;  // a bar routed before the activation reached this instance
    std::string_view symbol;
    std::int64_t ts;
    double close;
    if (obj["symbol"].get_string().get(symbol) || obj["ts"].get_int64().get(ts) ||
        obj["close"].get_double().get(close) || !(close > 0)) {
      throw jobs::JobError("bar needs symbol, ts and a positive close");
    }
    Actor& a = it->second;
    if (symbol == a.y) {
      a.ts_y = ts;
      a.log_y = std::log(close);
    } else if (symbol == a.x) {
      a.ts_x = ts;
      a.log_x = std::log(close);
    } else {
      throw jobs::JobError(fmt::format("symbol '{}' is not a leg of pair {}", symbol, pair));
    }
    if (a.ts_y != a.ts_x || a.ts_y <= a.last_update) return;  // wait for the other leg's bar
    a.last_update = a.ts_y;
    Signal signal = a.model.on_bar(a.ts_y, a.log_y, a.log_x);
    if (signal.action != SignalAction::kHold) ctx.emit("", std::to_string(pair), to_json(signal));
  }
  std::string snapshot_state() override {
    std::string out = "[";
    auto numbers = [](const std::vector<double>& values) {
      std::string list = "[";
      for (double v : values) {
        if (list.size() > 1) list.push_back(',');
        list += json_number(v);  // shortest round-trip text: restored to the bit
      }
      return list + "]";
    };
    for (const auto& [pair, a] : actors_) {
      const pairs::PairModelConfig& c = a.model.config();
      const pairs::PairModel::SavedState s = a.model.save();
      out += fmt::format(
          R"({}{{"pair":{},"y":{},"x":{},"window":{},"entry_z":{},"exit_z":{},"stop_z":{},)"
          R"("max_hold_bars":{},"ts_y":{},"ts_x":{},"last_update":{},"log_y":{},"log_x":{},)"
          R"("head":{},"filled":{},"state":{},"cooling_down":{},"held_bars":{},"ys":{},"xs":{}}})",
          out.size() > 1 ? "," : "", pair, json_string(a.y), json_string(a.x), c.window,
          json_number(c.entry_z), json_number(c.exit_z), json_number(c.stop_z), c.max_hold_bars,
          a.ts_y, a.ts_x, a.last_update, json_number(a.log_y), json_number(a.log_x), s.head,
          s.filled, static_cast<int>(s.state), s.cooling_down ? "true" : "false", s.held_bars,
          numbers(s.ys), numbers(s.xs));
    }
    return out + "]";
  }
  void restore_state(std::string_view json) override {
    const std::string corrupt = "pair_actors: checkpoint state is corrupt";
    simdjson::dom::array list;
    if (parser_.parse(json.data(), json.size()).get_array().get(list))
      throw jobs::JobError(corrupt);
    std::map<std::uint64_t, Actor> restored;
    for (simdjson::dom::element item : list) {
      simdjson::dom::object o;
      if (item.get_object().get(o)) throw jobs::JobError(corrupt);
      auto integer = [&](const char* key) {
        std::int64_t v;
        if (o[key].get_int64().get(v)) throw jobs::JobError(corrupt + ": " + key);
        return v;
      };
      auto number = [&](const char* key) {  // null: NaN (a leg not seen yet)
        simdjson::dom::element e;
        double v;
        if (o[key].get(e)) throw jobs::JobError(corrupt + ": " + key);
        if (e.is_null()) return kNaN;
        if (e.get_double().get(v)) throw jobs::JobError(corrupt + ": " + key);
        return v;
      };
      auto numbers = [&](const char* key) {
        simdjson::dom::array values;
        if (o[key].get_array().get(values)) throw jobs::JobError(corrupt + ": " + key);
        std::vector<double> out;
        for (simdjson::dom::element e : values) {
          double v;
          if (e.get_double().get(v)) throw jobs::JobError(corrupt + ": " + key);
          out.push_back(v);
        }
        return out;
      };
      std::string_view y, x;
      bool cooling_down;
      if (o["y"].get_string().get(y) || o["x"].get_string().get(x) ||
          o["cooling_down"].get_bool().get(cooling_down)) {
        throw jobs::JobError(corrupt);
      }
      const std::int64_t pair = integer("pair");
      pairs::PairModelConfig config;
      config.window = static_cast<int>(integer("window"));
      if (config.window != window_) {
        throw jobs::JobError(fmt::format(
            "pair_actors: the checkpoint's windows have {} bars, the job's window is {}; restart "
            "with window = {} or without the checkpoint",
            config.window, window_, config.window));
      }
      config.entry_z = number("entry_z");
      config.exit_z = number("exit_z");
      config.stop_z = number("stop_z");
      config.max_hold_bars = static_cast<int>(integer("max_hold_bars"));
      pairs::PairModel::SavedState s;
      s.ys = numbers("ys");
      s.xs = numbers("xs");
      s.head = static_cast<std::size_t>(integer("head"));
      s.filled = static_cast<std::size_t>(integer("filled"));
      s.state = static_cast<pairs::PairState>(integer("state"));
      s.cooling_down = cooling_down;
      s.held_bars = static_cast<int>(integer("held_bars"));
      Actor a{std::string(y), std::string(x), pairs::PairModel(static_cast<PairId>(pair), config)};
      if (pair < 0 || !a.model.load(s)) throw jobs::JobError(corrupt);
      a.ts_y = integer("ts_y");
      a.ts_x = integer("ts_x");
      a.last_update = integer("last_update");
      a.log_y = number("log_y");
      a.log_x = number("log_x");
      restored.emplace(static_cast<std::uint64_t>(pair), std::move(a));
    }
    actors_ = std::move(restored);
  }

 private:
  struct Actor {
    std::string y, x;
    pairs::PairModel model;
    Timestamp ts_y = -1, ts_x = -2, last_update = std::numeric_limits<Timestamp>::min();
    double log_y = kNaN, log_x = kNaN;
  };
  int window_ = 120;
  simdjson::dom::parser parser_;
  std::map<std::uint64_t, Actor> actors_;
};

class TraderJob : public jobs::Job, private PipelineObserver {
 public:
  bool needs_event_time_order() const override { return true; }
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

const std::vector<BuiltinJobInfo>& builtin_jobs() {
  static const std::vector<BuiltinJobInfo> kJobs = {
      {"bars", {"interval"}, {}, [] { return std::unique_ptr<jobs::Job>(new BarsJob); }},
      {"features",
       {"bars", "indicators", "lateness"},
       {},
       [] { return std::unique_ptr<jobs::Job>(new FeaturesJob); }},
      {"join",
       {"columns", "mode", "tolerance", "lateness", "idle_timeout"},
       {},
       [] { return std::unique_ptr<jobs::Job>(new JoinJob); }},
      {"pair_router",
       {"control"},
       {},
       [] { return std::unique_ptr<jobs::Job>(new PairRouterJob); }},
      {"pair_actors", {"window"}, {}, [] { return std::unique_ptr<jobs::Job>(new PairActorsJob); }},
      {"trader",
       {"config", "set"},
       {"pairs.signals", "pairs.control", "orders", "executions", "pnl"},
       [] { return std::unique_ptr<jobs::Job>(new TraderJob); }},
  };
  return kJobs;
}

const BuiltinJobInfo& builtin_job(const std::string& name) {
  std::string names;
  for (const BuiltinJobInfo& info : builtin_jobs()) {
    if (info.name == name) return info;
    names += (names.empty() ? "" : ", ") + info.name;
  }
  throw jobs::JobError(fmt::format("unknown builtin job '{}' (builtins: {})", name, names));
}

std::unique_ptr<jobs::Job> make_builtin_job(const std::string& name) {
  return builtin_job(name).make();
}

void check_builtin_params(const std::string& name, const std::string& params_json) {
  const BuiltinJobInfo& info = builtin_job(name);
  simdjson::dom::parser parser;
  simdjson::dom::object params;
  if (parser.parse(params_json).get_object().get(params))
    throw jobs::JobError(fmt::format("{}: params are not a JSON object", name));
  for (auto [key, value] : params) {
    if (std::find(info.params.begin(), info.params.end(), key) == info.params.end()) {
      std::string known;
      for (const std::string& k : info.params) known += (known.empty() ? "" : ", ") + k;
      throw jobs::JobError(
          fmt::format("{}: unknown parameter '{}' (it takes: {})", name, key, known));
    }
  }
}

}  // namespace pairflow::runtime
