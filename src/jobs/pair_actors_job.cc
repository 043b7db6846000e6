// The built-in `pair_actors` job (see jobs/builtin_jobs.h).
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/json_writer.h"
#include "base/symbols.h"
#include "jobs/factories.h"
#include "jobs/params.h"
#include "jobs/warmup.h"
#include "model/json.h"
#include "pairs/actors.h"
#include "stream/job.h"

namespace pairflow::jobs {
namespace {

// pair_actors  pairs.bars (keyed by pair id) -> pairs.signals: the pair actors of the engine
// (pairs/actors.h: rolling OLS or Kalman hedge ratio, z-score, entry / exit / stop / time stop),
// each pair advanced with PairActors::step_pair() when both legs have a bar of the same time - the
// code that trades in the embedded engine. Runs as a consumer group: an instance owns the pairs of
// its partitions. params {window = 120, hedge = "ols" | "kalman", kalman_delta, kalman_ve};
// thresholds come with each activation record. The checkpoint holds every actor whole
// (activation, window, position state, a leg's bar waiting for the other), so a restarted instance
// continues exactly where the checkpoint was taken.
class PairActorsJob : public stream::Job {
 public:
  void setup(stream::JobContext& ctx) override {
    Params params("pair_actors", ctx.params_json());
    config_.window = static_cast<int>(params.integer("window", 120, 3, 100000));
    const std::string hedge = params.string("hedge", "ols");
    if (hedge == "kalman") {
      config_.hedge = pairs::HedgeMethod::kKalman;
      config_.kalman.delta = params.number("kalman_delta", config_.kalman.delta, 0, 0.999999);
      config_.kalman.ve = params.number("kalman_ve", config_.kalman.ve, 0, 1e300);
    } else if (hedge != "ols") {
      params.fail("hedge", "'ols' or 'kalman'");
    }
    actors_ = std::make_unique<pairs::PairActors>(0, config_);
    warmup_.configure(params, "pairs.bars");
  }

  void process(const stream::Message& m, stream::JobContext& ctx) override {
    simdjson::dom::object obj;
    if (parser_.parse(m.payload).get_object().get(obj))
      throw stream::JobError("payload is not a JSON object");
    std::uint64_t pair_number;
    if (obj["pair"].get_uint64().get(pair_number) || pair_number >= kNoPair)
      throw stream::JobError("message needs a pair id (an integer below 2^32 - 1)");
    const auto pair = static_cast<PairId>(pair_number);
    std::string_view action;
    if (!obj["action"].get_string().get(action)) {
      control(pair, action, obj);
      return;
    }
    std::int64_t ts;
    std::string_view symbol;
    if (obj["ts"].get_int64().get(ts) || obj["symbol"].get_string().get(symbol))
      throw stream::JobError("bar needs symbol, ts and a positive close");
    auto it = legs_.find(pair);
    if (it == legs_.end() && warmup_.enabled() && warmed_.insert(pair).second) {
      const auto replayed = warm_up(pair, ts, symbol);
      ctx.metric("warmup_messages", static_cast<double>(replayed));
      it = legs_.find(pair);
    }
    if (it == legs_.end()) {
      // A bar of a pair this instance has no activation for (it was routed before the activation
      // reached this instance, or the activation predates this instance and there is no history
      // to warm up from): counted, never silently dropped.
      ctx.metric("bars_without_activation", 1);
      return;
    }
    if (auto signal = step(it->second, pair, obj))
      ctx.emit("", std::to_string(pair), to_json(*signal));
  }

  std::string snapshot_state() override {
    std::string out;
    JsonWriter w(out);
    w.begin_object().field("format", "pair_actors/2").field("window", config_.window);
    w.key("symbols").begin_array();
    for (const std::string& name : symbols_.names()) w.value(name);
    w.end_array().key("actors").begin_array();
    for (PairId id : actors_->active_ids()) {
      const auto a = actors_->save(id);
      const Legs& l = legs_.at(id);
      w.begin_object().field("pair", id).field("y", a->spec.y).field("x", a->spec.x);
      w.field("entry_z", a->spec.entry_z).field("exit_z", a->spec.exit_z);
      w.field("stop_z", a->spec.stop_z).field("max_hold_bars", a->spec.max_hold_bars);
      w.field("state", a->state).field("cooling", a->cooling).field("held", a->held);
      w.field("head", a->head).field("filled", a->filled).field("since", a->since);
      for (auto [name, v] : {std::pair{"ref_y", a->ref_y},
                             {"ref_x", a->ref_x},
                             {"sx", a->sx},
                             {"sy", a->sy},
                             {"sxx", a->sxx},
                             {"sxy", a->sxy},
                             {"syy", a->syy},
                             {"hedge", a->hedge},
                             {"intercept", a->intercept},
                             {"sd", a->sd},
                             {"z", a->z}}) {
        w.field(name, v);  // shortest round-trip text: restored to the bit (NaN as null)
      }
      w.key("ring").begin_array();
      for (double v : a->ring) w.value(v);
      w.end_array().key("kalman").begin_array();
      for (double v : a->kalman.beta) w.value(v);
      for (double v : a->kalman.p) w.value(v);
      w.value(a->kalman.first ? 1.0 : 0.0).value(a->kalman.ve);
      w.value(a->kalman_started ? 1.0 : 0.0);
      for (double v : a->kalman.vw) w.value(v);
      w.end_array();
      w.field("ts_y", l.ts_y).field("ts_x", l.ts_x).field("last_update", l.last_update);
      w.field("log_y", l.log_y).field("log_x", l.log_x).end_object();
    }
    w.end_array().end_object();
    return out;
  }

  void restore_state(std::string_view json) override {
    const std::string corrupt = "pair_actors: checkpoint state is corrupt";
    simdjson::dom::element root;
    if (parser_.parse(json.data(), json.size()).get(root)) throw stream::JobError(corrupt);
    std::string_view format;
    if (root.is_array() || root["format"].get_string().get(format) || format != "pair_actors/2") {
      throw stream::JobError(
          "pair_actors: the checkpoint is from an older pairflow (another state format); start "
          "over with --reset-checkpoint");
    }
    std::int64_t window = 0;
    simdjson::dom::array names, actor_list;
    if (root["window"].get_int64().get(window) || root["symbols"].get_array().get(names) ||
        root["actors"].get_array().get(actor_list)) {
      throw stream::JobError(corrupt);
    }
    if (window != config_.window) {
      throw stream::JobError(fmt::format(
          "pair_actors: the checkpoint's windows have {} bars, the job's window is {}; restart "
          "with window = {} or without the checkpoint",
          window, config_.window, window));
    }
    SymbolTable symbols;
    for (simdjson::dom::element n : names) {
      std::string_view name;
      if (n.get_string().get(name)) throw stream::JobError(corrupt);
      symbols.intern(name);
    }
    auto actors = std::make_unique<pairs::PairActors>(static_cast<int>(symbols.size()), config_);
    std::map<PairId, Legs> legs;
    for (simdjson::dom::element item : actor_list) {
      simdjson::dom::object o;
      if (item.get_object().get(o)) throw stream::JobError(corrupt);
      auto integer = [&](const char* key) {
        std::int64_t v;
        if (o[key].get_int64().get(v)) throw stream::JobError(corrupt + ": " + key);
        return v;
      };
      auto number = [&](simdjson::dom::element e) {  // null: NaN
        double v;
        if (e.is_null()) return kNaN;
        if (e.get_double().get(v)) throw stream::JobError(corrupt);
        return v;
      };
      auto field = [&](const char* key) {
        simdjson::dom::element e;
        if (o[key].get(e)) throw stream::JobError(corrupt + ": " + key);
        return number(e);
      };
      pairs::PairActors::ActorState a;
      a.spec.id = static_cast<PairId>(integer("pair"));
      a.spec.y = static_cast<SymbolId>(integer("y"));
      a.spec.x = static_cast<SymbolId>(integer("x"));
      a.spec.entry_z = field("entry_z");
      a.spec.exit_z = field("exit_z");
      a.spec.stop_z = field("stop_z");
      a.spec.max_hold_bars = static_cast<int>(integer("max_hold_bars"));
      a.state = static_cast<std::uint8_t>(integer("state"));
      a.cooling = static_cast<std::uint8_t>(integer("cooling"));
      a.held = static_cast<std::int32_t>(integer("held"));
      a.head = static_cast<std::int32_t>(integer("head"));
      a.filled = static_cast<std::int32_t>(integer("filled"));
      a.since = static_cast<std::int32_t>(integer("since"));
      a.ref_y = field("ref_y");
      a.ref_x = field("ref_x");
      a.sx = field("sx");
      a.sy = field("sy");
      a.sxx = field("sxx");
      a.sxy = field("sxy");
      a.syy = field("syy");
      a.hedge = field("hedge");
      a.intercept = field("intercept");
      a.sd = field("sd");
      a.z = field("z");
      simdjson::dom::array ring, kalman;
      if (o["ring"].get_array().get(ring) || o["kalman"].get_array().get(kalman) ||
          kalman.size() != 13) {
        throw stream::JobError(corrupt);
      }
      for (simdjson::dom::element e : ring) a.ring.push_back(number(e));
      std::vector<double> k;
      for (simdjson::dom::element e : kalman) k.push_back(number(e));
      a.kalman.beta = {k[0], k[1]};
      a.kalman.p = {k[2], k[3], k[4], k[5]};
      a.kalman.first = k[6] != 0;
      a.kalman.ve = k[7];
      a.kalman_started = k[8] != 0;
      a.kalman.vw = {k[9], k[10], k[11], k[12]};
      if (!actors->restore(a)) throw stream::JobError(corrupt);
      Legs& l = legs[a.spec.id];
      l.y = a.spec.y;
      l.x = a.spec.x;
      l.ts_y = integer("ts_y");
      l.ts_x = integer("ts_x");
      l.last_update = integer("last_update");
      l.log_y = field("log_y");
      l.log_x = field("log_x");
    }
    symbols_ = std::move(symbols);
    actors_ = std::move(actors);
    legs_ = std::move(legs);
  }

 private:
  // A leg's bar waiting for the other's, per active pair.
  struct Legs {
    SymbolId y = 0, x = 0;
    Timestamp ts_y = -1, ts_x = -2, last_update = std::numeric_limits<Timestamp>::min();
    double log_y = kNaN, log_x = kNaN;
  };

  // Advances the pair with one leg's bar; a signal other than hold when the pair acted.
  std::optional<Signal> step(Legs& l, PairId pair, simdjson::dom::object obj) {
    std::string_view symbol;
    std::int64_t ts;
    double close;
    if (obj["symbol"].get_string().get(symbol) || obj["ts"].get_int64().get(ts) ||
        obj["close"].get_double().get(close) || !(close > 0) || !std::isfinite(close)) {
      throw stream::JobError("bar needs symbol, ts and a positive close");
    }
    if (symbol == symbols_.name(l.y)) {
      l.ts_y = ts;
      l.log_y = std::log(close);
    } else if (symbol == symbols_.name(l.x)) {
      l.ts_x = ts;
      l.log_x = std::log(close);
    } else {
      throw stream::JobError(fmt::format("symbol '{}' is not a leg of pair {}", symbol, pair));
    }
    if (l.ts_y != l.ts_x || l.ts_y <= l.last_update) return std::nullopt;  // wait for the other leg
    l.last_update = l.ts_y;
    auto signal = actors_->step_pair(pair, l.ts_y, l.log_y, l.log_x);
    if (signal && signal->action == SignalAction::kHold) return std::nullopt;
    return signal;
  }

  // The warm-up of one pair from the history store (params warmup / history / warmup_topic, the
  // recorded input topic, default pairs.bars): when a bar arrives for a pair this instance holds
  // no actor for - a fresh instance, or a partition that moved here in a rebalance - the pair's
  // last activation at or before the bar's time and its legs' routed bars since are replayed
  // through the same code with the signals suppressed, so the actor continues as the one that
  // never stopped (warmup = "all"; a duration replays only that much of the bars). Replayed: the
  // bars before the live bar's instant, and of that instant only the other leg's - so the step of
  // that instant happens live and its signal is published (the previous owner, lacking the live
  // bar, never made it); an other-leg bar replayed early and then read live steps nothing twice
  // (Legs::last_update). Returns the messages replayed.
  std::uint64_t warm_up(PairId pair, Timestamp ts, std::string_view live_symbol) {
    try {
      history::HistoryReader reader(warmup_.path());
      const std::string pair_key = std::to_string(pair);
      history::Query q;
      q.topic = warmup_.topic();
      q.key = pair_key;
      q.to = ts == kMaxTimestamp ? ts : ts + 1;
      std::string activation, json;
      Timestamp activated = 0;
      {
        history::Cursor c = reader.query(q);
        const int action = column_of(c, "action");
        while (action > 0 && c.next()) {
          if (c.is_null(action)) continue;
          if (c.text(action) == "activate") {
            activation.clear();
            c.append_json(activation);
            activated = c.integer(0);
          } else if (c.text(action) == "deactivate") {
            activation.clear();
          }
        }
      }
      if (activation.empty()) return 0;
      simdjson::dom::object obj;
      std::string_view action;
      if (replay_parser_.parse(activation).get_object().get(obj) ||
          obj["action"].get_string().get(action))
        throw stream::JobError("warmup: a recorded activation is not a JSON object");
      control(pair, action, obj);
      Legs& l = legs_.at(pair);
      // The routed bars of the two legs since the activation, merged by event time (which leg
      // comes first within an instant does not change a step).
      struct Row {
        Timestamp ts;
        std::string json;
      };
      std::vector<Row> rows;
      q.from = activated;
      if (warmup_.window() > 0) q.from = std::max(activated, ts - warmup_.window());
      for (SymbolId leg : {l.y, l.x}) {
        q.key = std::string(symbols_.name(leg));
        const bool live_leg = *q.key == live_symbol;
        history::Cursor c = reader.query(q);
        const int pair_column = column_of(c, "pair"), action = column_of(c, "action");
        while (pair_column > 0 && c.next()) {
          if (c.is_null(pair_column) || c.integer(pair_column) != static_cast<std::int64_t>(pair))
            continue;
          if (action > 0 && !c.is_null(action)) continue;  // a control record keyed by symbol
          if (live_leg && c.integer(0) == ts) continue;    // the live bar itself: read live
          json.clear();
          c.append_json(json);
          rows.push_back({c.integer(0), json});
        }
      }
      std::stable_sort(rows.begin(), rows.end(),
                       [](const Row& a, const Row& b) { return a.ts < b.ts; });
      for (const Row& r : rows) {
        if (replay_parser_.parse(r.json).get_object().get(obj))
          throw stream::JobError("warmup: a recorded bar is not a JSON object");
        (void)step(l, pair, obj);  // signals suppressed: they were published before
      }
      return 1 + rows.size();
    } catch (const UserError& e) {
      throw stream::JobError(fmt::format("warmup: {}", e.what()));
    }
  }

  static int column_of(const history::Cursor& c, std::string_view name) {
    const auto& columns = c.columns();
    for (std::size_t i = 1; i < columns.size(); ++i)
      if (columns[i].name == name) return static_cast<int>(i);
    return -1;
  }

  void control(PairId pair, std::string_view action, simdjson::dom::object obj) {
    if (action == "deactivate") {
      actors_->post_deactivate(pair);
      legs_.erase(pair);
      return;
    }
    if (action != "activate")
      throw stream::JobError(fmt::format("unknown control action '{}'", action));
    std::string_view y, x;
    if (obj["y"].get_string().get(y) || obj["x"].get_string().get(x) || y == x)
      throw stream::JobError("activation needs two different legs y and x");
    pairs::PairSpec spec;
    spec.id = pair;
    auto number = [&](const char* key, double& out) {
      double v;
      if (!obj[key].get_double().get(v)) out = v;
    };
    number("entry_z", spec.entry_z);
    number("exit_z", spec.exit_z);
    number("stop_z", spec.stop_z);
    std::int64_t hold = 0;
    if (!obj["max_hold_bars"].get_int64().get(hold)) spec.max_hold_bars = static_cast<int>(hold);
    if (!(spec.exit_z >= 0 && spec.exit_z < spec.entry_z && spec.entry_z < spec.stop_z))
      throw stream::JobError("activation thresholds must satisfy 0 <= exit_z < entry_z < stop_z");
    spec.y = symbols_.intern(y);
    spec.x = symbols_.intern(x);
    actors_->grow_universe(static_cast<int>(symbols_.size()));
    actors_->post_deactivate(pair);  // a new activation replaces the old actor
    actors_->post_activate(spec);
    legs_[pair] = Legs{.y = spec.y, .x = spec.x};
  }

  pairs::ActorsConfig config_;
  SymbolTable symbols_;
  std::unique_ptr<pairs::PairActors> actors_;
  std::map<PairId, Legs> legs_;
  simdjson::dom::parser parser_, replay_parser_;
  HistoryWarmup warmup_;
  std::set<PairId> warmed_;  // pairs whose warm-up was tried (once each)
};

}  // namespace

std::unique_ptr<stream::Job> make_pair_actors_job() { return std::make_unique<PairActorsJob>(); }

}  // namespace pairflow::jobs
