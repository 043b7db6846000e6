#include "ui/feed.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <set>

#include "base/json_writer.h"
#include "base/status.h"
#include "exec/wire.h"
#include "pairs/actors.h"

namespace pairflow::ui {

namespace {

using Clock = std::chrono::steady_clock;

std::string iso_time(Timestamp ts) { return ts > 0 ? format_timestamp(ts) : ""; }

const char* pair_state_name(pairs::PairState s) {
  switch (s) {
    case pairs::PairState::kLongSpread:
      return "long";
    case pairs::PairState::kShortSpread:
      return "short";
    default:
      return "flat";
  }
}

bool closed_status(ExecStatus s) {
  return s == ExecStatus::kFilled || s == ExecStatus::kRejected || s == ExecStatus::kCancelled ||
         s == ExecStatus::kExpired;
}

std::string wall_time_iso() {
  const auto now = std::chrono::system_clock::now();
  return format_timestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
}

}  // namespace

DashboardFeed::DashboardFeed(Hub& hub, MetricsRegistry& metrics, const engine::EngineConfig& config,
                             const SymbolTable& symbols, std::string run_name,
                             std::string audit_path, engine::EngineObserver* next)
    : hub_(hub),
      metrics_(metrics),
      config_(config),
      symbols_(symbols),
      run_name_(std::move(run_name)),
      audit_path_(std::move(audit_path)),
      next_(next) {
  audit_ = std::fopen(audit_path_.c_str(), "a");
  if (!audit_)
    throw UserError(fmt::format("{}: cannot append to the control audit log", audit_path_));
  const auto latency = exponential_buckets(1e-6, 4, 12);  // 1 us .. ~4 s
  tick_to_bar_ =
      &metrics_.histogram("pairflow_tick_to_bar_seconds",
                          "Wall time from the tick that closes a bar to the bar slice", latency);
  bar_to_signal_ = &metrics_.histogram(
      "pairflow_bar_to_signal_seconds",
      "Wall time from a bar slice to its signals sized and sent as intents", latency);
  order_to_fill_ = &metrics_.histogram(
      "pairflow_order_to_fill_seconds",
      "Event time from an order's sending to each of its fills (the broker's latency and queue)",
      exponential_buckets(1e-3, 4, 10));
  screen_duration_ = &metrics_.histogram("pairflow_screener_duration_seconds",
                                         "Wall time of one all-pairs screen", latency);
  // Registered now, so a scrape before the first screen already has them (at 0).
  metrics_.gauge("pairflow_screener_tests", "Pair tests in the last screen");
  metrics_.gauge("pairflow_screener_passing", "Pairs that passed the last screen");
  std::string doc;
  JsonWriter w(doc);
  const auto& c = config_;
  w.begin_object().field("run", run_name_);
  w.key("bars")
      .begin_object()
      .field("interval_s", static_cast<double>(c.bar_interval) / kNanosPerSecond)
      .end_object();
  w.key("discovery")
      .begin_object()
      .field("method",
             c.discovery_method == engine::DiscoveryMethod::kScreener ? "screener" : "warmup");
  w.field("warmup_bars", c.warmup_bars).field("top_k", c.discovery.top_k);
  w.field("screen_every", c.screen_every).end_object();
  w.key("pair_model").begin_object().field("window", c.pair_model.window);
  w.field("entry_z", c.pair_model.entry_z).field("exit_z", c.pair_model.exit_z);
  w.field("stop_z", c.pair_model.stop_z)
      .field("max_hold_bars", c.pair_model.max_hold_bars)
      .end_object();
  w.key("portfolio").begin_object().field("capital_per_pair", c.sizing.capital_per_pair);
  w.field("initial_capital", c.capital()).end_object();
  w.key("broker").begin_object().field("kind", c.broker_kind).end_object();
  w.key("execution").begin_object().field("legging", exec::to_string(c.execution.legging.policy));
  w.field("journal", c.journal).field("audit_log", c.audit_log).end_object();
  w.key("input")
      .begin_object()
      .field("speed", c.speed)
      .field("max_rejects", c.max_rejects)
      .end_object();
  w.key("ui").begin_object().field("bind", c.ui.bind).field("port", c.ui.port);
  w.field("read_only", c.ui.read_only).field("publish_ms", c.ui.publish_ms);
  w.field("tokens", static_cast<std::uint64_t>(c.ui.tokens.size())).field("audit_log", audit_path_);
  w.end_object().end_object();
  hub_.set_document("config", std::move(doc));
}

DashboardFeed::~DashboardFeed() {
  if (audit_) std::fclose(audit_);
}

void DashboardFeed::on_signal(const Signal& signal) {
  if (next_) next_->on_signal(signal);
  std::string data;
  JsonWriter w(data);
  w.begin_object().field("ts", signal.ts).field("pair", signal.pair);
  w.field("action", to_string(signal.action)).field("z", signal.z);
  w.field("hedge_ratio", signal.hedge_ratio).end_object();
  hub_.publish(Stream::kSignals, std::to_string(++signal_seq_), std::move(data));
  hub_.add_pair_trade(signal.pair, PairTrade{signal.ts, signal.action, signal.z});
}

std::string DashboardFeed::order_json(std::uint64_t id) const {
  auto it = open_orders_.find(id);
  const OrderView* v = it != open_orders_.end() ? &it->second : nullptr;
  if (!v) {
    for (const auto& r : recent_orders_)
      if (r.order.client_order_id == id) v = &r;
  }
  if (!v) return "null";
  std::string out;
  JsonWriter w(out);
  const Order& o = v->order;
  // Ids as strings: they use 63 bits, more than a JavaScript number holds exactly.
  w.begin_object().field("id", std::to_string(o.client_order_id));
  w.field("pair", static_cast<std::int64_t>(o.pair == kNoPair ? -1 : o.pair));
  w.field("symbol", symbols_.name(o.symbol)).field("side", to_string(o.side));
  w.field("qty", o.qty).field("filled", v->filled).field("avg_price", v->avg_price);
  w.field("price", o.limit).field("type", to_string(o.type)).field("status", v->status);
  w.field("ts", o.ts).field("updated", v->updated).end_object();
  return out;
}

void DashboardFeed::on_order(const Order& order) {
  if (next_) next_->on_order(order);
  OrderView v;
  v.order = order;
  v.updated = order.ts;
  open_orders_[order.client_order_id] = v;
  order_sent_[order.client_order_id] = order.ts;
  hub_.publish(Stream::kOrders, std::to_string(order.client_order_id),
               order_json(order.client_order_id));
}

void DashboardFeed::on_execution(const Execution& e) {
  if (next_) next_->on_execution(e);
  std::string data;
  JsonWriter w(data);
  w.begin_object().field("ts", e.ts).field("order", std::to_string(e.client_order_id));
  w.field("pair", static_cast<std::int64_t>(e.pair == kNoPair ? -1 : e.pair));
  w.field("symbol", symbols_.name(e.symbol)).field("side", to_string(e.side));
  w.field("qty", e.qty).field("price", e.price).field("fee", e.fee);
  w.field("status", to_string(e.status)).field("reason", e.reason).end_object();
  executions_.push_back(data);
  while (executions_.size() > 500) executions_.pop_front();
  hub_.publish(Stream::kExecutions, std::to_string(++execution_seq_), std::move(data));

  if (e.qty > 0) {
    auto sent = order_sent_.find(e.client_order_id);
    if (sent != order_sent_.end())
      order_to_fill_->observe(static_cast<double>(e.ts - sent->second) / kNanosPerSecond);
  }
  auto it = open_orders_.find(e.client_order_id);
  if (it == open_orders_.end()) return;  // a denial before sending, or a report after the end
  OrderView& v = it->second;
  if (e.qty > 0) {
    v.avg_price = (v.avg_price * v.filled + e.price * e.qty) / (v.filled + e.qty);
    v.filled += e.qty;
  }
  v.status = to_string(e.status);
  v.updated = e.ts;
  const std::string key = std::to_string(e.client_order_id);
  if (closed_status(e.status)) {
    recent_orders_.push_back(v);
    while (recent_orders_.size() > 200) recent_orders_.pop_front();
    open_orders_.erase(it);
    order_sent_.erase(e.client_order_id);
    hub_.publish(Stream::kOrders, key, "null");
  } else {
    hub_.publish(Stream::kOrders, key, order_json(e.client_order_id));
  }
}

void DashboardFeed::on_pnl(const PnL& pnl) {
  if (next_) next_->on_pnl(pnl);
  last_pnl_ = pnl;
  if (peak_equity_ == 0 || pnl.equity > peak_equity_) peak_equity_ = pnl.equity;
  const double dd = pnl.equity - peak_equity_;
  max_drawdown_ = std::min(max_drawdown_, dd);
  hub_.add_equity(EquityPoint{pnl.ts, pnl.equity, dd});
}

void DashboardFeed::on_position(const Position& position) {
  if (next_) next_->on_position(position);
}
void DashboardFeed::on_pair_pnl(const exec::PairPnl& pair) {
  if (next_) next_->on_pair_pnl(pair);
}
void DashboardFeed::on_control(const screen::PairControl& control) {
  if (next_) next_->on_control(control);
}

void DashboardFeed::on_audit(const exec::AuditEntry& entry) {
  if (next_) next_->on_audit(entry);
  audit_recent_.push_back(entry.to_json());
  while (audit_recent_.size() > 100) audit_recent_.pop_front();
}

void DashboardFeed::on_slice_end(engine::Engine& engine, Timestamp now) {
  if (next_) next_->on_slice_end(engine, now);
  if (!timing_on_) {  // from the next slice on (this one was not timed)
    engine.set_timing(true);
    timing_on_ = true;
  } else {
    const engine::SliceTiming& t = engine.timing();
    tick_to_bar_->observe(t.tick_to_bar_s);
    bar_to_signal_->observe(t.bar_to_signal_s);
    if (t.screened) screen_duration_->observe(t.screen_s);
  }
  // Every active pair's bar, for the pair chart.
  if (const pairs::PairActors* actors = engine.actors()) {
    points_.clear();
    const auto& closes = engine.last_close();
    for (PairId id : actors->active_ids()) {
      const auto& c = engine.active_pairs()[id];
      const double z = actors->z(id);
      if (!std::isfinite(z)) continue;
      points_.emplace_back(id, PairPoint{now, z, closes[c.y], closes[c.x]});
    }
    hub_.add_pair_points(points_);
  }
  apply_controls(engine);
  const auto wall = Clock::now();
  if (wall - last_publish_ >= std::chrono::milliseconds(config_.ui.publish_ms)) {
    publish_state(engine, engine.discovered() ? "running" : "warming_up");
  }
  hub_.commit();
}

void DashboardFeed::on_wait(engine::Engine& engine) {
  if (next_) next_->on_wait(engine);
  apply_controls(engine);
  // A paced run waits most of the time: ticks keep arriving between bars, so the job rates and
  // the event time move; publish them as often as a busy run would.
  if (Clock::now() - last_publish_ >= std::chrono::milliseconds(config_.ui.publish_ms))
    publish_state(engine, engine.discovered() ? "running" : "warming_up");
  hub_.commit();
}

void DashboardFeed::on_finish(engine::Engine& engine) {
  if (next_) next_->on_finish(engine);
  apply_controls(engine);
  publish_state(engine, "finished");
  hub_.commit();
  finished_ = true;
  hub_.close_controls("the run has finished: nothing is trading");
}

void DashboardFeed::apply_controls(engine::Engine& engine) {
  auto requests = hub_.take_controls();
  if (requests.empty()) return;
  for (ControlRequest& r : requests) answer(engine, r);
  // What the commands changed shows at once.
  publish_state(engine, engine.discovered() ? "running" : "warming_up");
}

void DashboardFeed::answer(engine::Engine& engine, ControlRequest& request) {
  int status = 200;
  std::string body;
  std::string command;
  auto fail = [&](int code, const std::string& error) {
    status = code;
    body = R"({"ok":false,"error":)" + json_string(error) + "}";
  };
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const bool parsed = parser.parse(request.body).get(root) == simdjson::SUCCESS;
  if (!parsed || !root.is_object()) {
    fail(400, "the body must be a JSON object such as {\"command\":\"pause\"}");
  } else {
    std::string_view cmd;
    std::string_view reason_text;
    if (root["command"].get(cmd) != simdjson::SUCCESS) {
      fail(400, "missing \"command\" (a string)");
    } else {
      command = std::string(cmd);
      if (root["reason"].get(reason_text) != simdjson::SUCCESS) reason_text = "";
      const std::string reason(reason_text);
      if (request.path == "/api/control") {
        exec::ControlCommand c;
        c.by = "ui:" + request.who;
        c.reason = reason;
        bool known = true;
        if (cmd == "pause" || cmd == "flatten" || cmd == "halt") {
          c.kind = exec::CommandKind::kKill;
          (void)exec::parse_kill_mode(cmd, c.mode);
        } else if (cmd == "resume") {
          c.kind = exec::CommandKind::kResume;
        } else if (cmd == "rearm") {
          c.kind = exec::CommandKind::kRearm;
        } else if (cmd == "acknowledge") {
          c.kind = exec::CommandKind::kAcknowledge;
        } else {
          known = false;
          fail(400, fmt::format("unknown command '{}' (pause, resume, flatten, halt, rearm, "
                                "acknowledge)",
                                cmd));
        }
        if (known && c.kind == exec::CommandKind::kAcknowledge && request.role != "admin") {
          fail(403, "acknowledge needs the admin role");
        } else if (known) {
          body = engine.command(c);
          if (body.find("\"ok\":false") != std::string::npos) status = 409;
        }
      } else {
        // /api/pairs/ID/control
        const std::string_view rest = std::string_view(request.path).substr(11);
        const PairId id = static_cast<PairId>(std::stoul(std::string(rest)));
        engine::PairCommand pc;
        if (!engine::parse_pair_command(cmd, pc.kind)) {
          fail(400, fmt::format("unknown pair command '{}' (enable, disable, flatten, thresholds)",
                                cmd));
        } else {
          bool ok = true;
          if (pc.kind == engine::PairCommand::Kind::kThresholds) {
            ok = root["entry_z"].get(pc.entry_z) == simdjson::SUCCESS &&
                 root["exit_z"].get(pc.exit_z) == simdjson::SUCCESS &&
                 root["stop_z"].get(pc.stop_z) == simdjson::SUCCESS;
            if (!ok) fail(400, "thresholds need numbers entry_z, exit_z and stop_z");
          }
          if (ok) {
            const std::string error = engine.pair_command(id, pc);
            if (error.empty()) {
              body = fmt::format(R"({{"ok":true,"pair":{},"command":{}}})", id, json_string(cmd));
            } else {
              fail(error.find("not active") != std::string::npos ? 404 : 400, error);
            }
          }
        }
      }
    }
  }
  ++controls_;
  metrics_
      .counter(
          "pairflow_ui_controls_total", "Operator commands answered, by command and status",
          {{"command", command.empty() ? "invalid" : command}, {"status", std::to_string(status)}})
      .add();
  // The audit line: who, from where, what, and what came of it.
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("time", wall_time_iso()).field("event_ts", engine.last_slice());
  w.field("who", request.who).field("role", request.role).field("remote", request.remote);
  w.field("path", request.path).field("command", command).field("status", status);
  w.key("request").raw(parsed ? simdjson::minify(root) : json_string(request.body));
  w.key("answer").raw(body).end_object();
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), audit_);
  std::fflush(audit_);
  request.done(status, std::move(body));
}

void DashboardFeed::publish_if_changed(Stream stream, std::map<std::string, std::string>& last,
                                       std::map<std::string, std::string>& now) {
  for (auto& [key, json] : now) {
    auto it = last.find(key);
    if (it == last.end() || it->second != json) hub_.publish(stream, key, json);
  }
  for (const auto& [key, json] : last)
    if (!now.count(key)) hub_.publish(stream, key, "null");
  last.swap(now);
}

void DashboardFeed::publish_state(engine::Engine& engine, const char* state) {
  const auto wall = Clock::now();
  const double dt = std::chrono::duration<double>(wall - last_publish_).count();
  if (last_publish_.time_since_epoch().count() != 0 && dt > 0)
    rate_in_ = static_cast<double>(engine.ticks() - ticks_at_publish_) / dt;
  ticks_at_publish_ = engine.ticks();
  last_publish_ = wall;
  exec::ExecutionStage* stage = engine.stage();
  const pairs::PairActors* actors = engine.actors();
  const Timestamp now = engine.last_slice();

  // pnl
  {
    std::string data;
    JsonWriter w(data);
    w.begin_object().field("ts", last_pnl_.ts).field("equity", last_pnl_.equity);
    w.field("net_pnl", last_pnl_.net_pnl).field("gross_pnl", last_pnl_.gross_pnl);
    w.field("fees", last_pnl_.fees).field("drawdown", last_pnl_.equity - peak_equity_);
    w.field("max_drawdown", max_drawdown_).field("initial_capital", config_.capital());
    w.end_object();
    std::string doc = data;
    hub_.set_document("pnl", std::move(doc));
    if (last_pnl_.ts != 0) hub_.publish(Stream::kPnl, "total", std::move(data));
  }

  // pairs
  {
    std::map<std::string, std::string> now_pairs;
    std::string doc = R"({"pairs":[)";
    bool first = true;
    if (actors) {
      for (PairId id : actors->active_ids()) {
        const screen::PairCandidate& c = engine.active_pairs()[id];
        const auto th = actors->thresholds(id);
        double qty_y = 0, qty_x = 0, pnl = 0;
        int trades = 0;
        if (stage && id < stage->books().pairs().size()) {
          const auto& b = stage->books().pairs()[id];
          qty_y = b.qty_y;
          qty_x = b.qty_x;
          trades = b.trades;
          pnl = stage->books().pair_net_pnl(id);
        }
        std::string data;
        JsonWriter w(data);
        const std::string y = symbols_.name(c.y), x = symbols_.name(c.x);
        w.begin_object().field("id", id).field("name", y + "~" + x).field("y", y).field("x", x);
        w.field("state", pair_state_name(actors->state(id)))
            .field("enabled", engine.pair_enabled(id));
        w.field("z", actors->z(id)).field("hedge_ratio", actors->hedge_ratio(id));
        w.field("half_life", c.half_life).field("pvalue", c.adj_pvalue);
        w.field("entry_z", th.entry_z).field("exit_z", th.exit_z).field("stop_z", th.stop_z);
        w.field("qty_y", qty_y).field("qty_x", qty_x).field("net_pnl", pnl);
        w.field("trades", trades).end_object();
        if (!first) doc += ',';
        first = false;
        doc += data;
        now_pairs[std::to_string(id)] = std::move(data);
      }
    }
    doc += "]}";
    hub_.set_document("pairs", std::move(doc));
    publish_if_changed(Stream::kPairs, pairs_last_, now_pairs);
  }

  // positions
  {
    std::map<std::string, std::string> now_positions;
    std::string doc = R"({"positions":[)";
    bool first = true;
    if (stage) {
      for (const Position& p : stage->books().positions()) {
        if (p.qty == 0) continue;
        std::string data;
        JsonWriter w(data);
        const double mark = std::isfinite(p.mark) ? p.mark : p.avg_price;
        w.begin_object().field("symbol", symbols_.name(p.symbol)).field("qty", p.qty);
        w.field("price", mark).field("value", p.qty * mark).field("avg_price", p.avg_price);
        w.field("unrealized_pnl", p.unrealized_pnl).end_object();
        if (!first) doc += ',';
        first = false;
        doc += data;
        now_positions[symbols_.name(p.symbol)] = std::move(data);
      }
    }
    doc += "]}";
    hub_.set_document("positions", std::move(doc));
    publish_if_changed(Stream::kPositions, positions_last_, now_positions);
  }

  // screener
  const engine::PairSelection* selection = engine.selection();
  if (selection && selection->screens() != screens_published_) {
    screens_published_ = selection->screens();
    std::set<std::pair<SymbolId, SymbolId>> active;
    if (actors) {
      for (PairId id : actors->active_ids()) {
        const auto& c = engine.active_pairs()[id];
        active.emplace(c.y, c.x);
      }
    }
    std::map<std::string, std::string> now_screen;
    std::string doc = fmt::format(R"({{"tests":{},"passing":{},"screens":{},"candidates":[)",
                                  selection->tests(), selection->passing(), selection->screens());
    bool first = true;
    for (const screen::PairCandidate& c : selection->candidates()) {
      std::string data;
      JsonWriter w(data);
      const std::string y = symbols_.name(c.y), x = symbols_.name(c.x);
      w.begin_object().field("name", y + "~" + x).field("y", y).field("x", x);
      w.field("pvalue", c.pvalue).field("adj_pvalue", c.adj_pvalue);
      w.field("hedge_ratio", c.hedge_ratio).field("half_life", c.half_life);
      w.field("active", active.count({c.y, c.x}) > 0).end_object();
      if (!first) doc += ',';
      first = false;
      doc += data;
      now_screen[y + "~" + x] = std::move(data);
    }
    doc += "]}";
    hub_.set_document("screener", std::move(doc));
    publish_if_changed(Stream::kScreener, screener_last_, now_screen);
    metrics_.gauge("pairflow_screener_tests", "Pair tests in the last screen")
        .set(selection->tests());
    metrics_.gauge("pairflow_screener_passing", "Pairs that passed the last screen")
        .set(selection->passing());
  } else if (!hub_.document("screener")) {
    hub_.set_document("screener", R"({"tests":0,"passing":0,"screens":0,"candidates":[]})");
  }

  // orders and executions
  {
    std::string doc = R"({"open":[)";
    bool first = true;
    for (const auto& [id, v] : open_orders_) {
      if (!first) doc += ',';
      first = false;
      doc += order_json(id);
    }
    doc += R"(],"recent":[)";
    first = true;
    for (const auto& v : recent_orders_) {
      if (!first) doc += ',';
      first = false;
      doc += order_json(v.order.client_order_id);
    }
    doc += "]}";
    hub_.set_document("orders", std::move(doc));
    hub_.set_document("executions", json_list(R"({"executions":[)", executions_, "]}"));
  }

  // risk
  std::string kill = "none", trading = "active";
  double unhedged = 0;
  {
    std::string data;
    JsonWriter w(data);
    w.begin_object();
    if (stage) {
      const exec::ExecutionService& service = stage->service();
      kill = exec::to_string(service.kill_switch().mode());
      trading = exec::to_string(service.trading_state());
      unhedged = service.unhedged_notional();
      w.field("kill_switch", kill).field("trading_state", trading);
      w.field("blocked", service.blocked()).field("unhedged_notional", unhedged);
      w.key("denials").begin_object();
      for (int d = 1; d < static_cast<int>(exec::Denial::kCount); ++d) {
        const auto n = service.risk().denials(static_cast<exec::Denial>(d));
        const char* name = exec::denial_name(static_cast<exec::Denial>(d));
        if (n) w.field(name, n);
        metrics_
            .counter("pairflow_risk_denials_total", "Orders denied by pre-trade risk, by reason",
                     {{"reason", name}})
            .set(static_cast<double>(n));
      }
      w.end_object();
      const exec::RiskLimits& l = config_.execution.risk;
      w.key("limits").begin_object();
      w.field("max_order_qty", l.max_order_qty).field("max_order_notional", l.max_order_notional);
      w.field("max_position_notional", l.max_position_notional);
      w.field("max_gross_exposure", l.max_gross_exposure);
      w.field("daily_loss_limit", l.daily_loss_limit).field("max_drawdown", l.max_drawdown);
      w.field("max_unhedged_notional", l.max_unhedged_notional);
      w.field("max_orders_per_second", l.max_orders_per_second).end_object();
      const auto& c = service.counts();
      w.key("counts").begin_object().field("intents", c.intents).field("orders", c.orders);
      w.field("fills", c.fills).field("denials", c.denials);
      w.field("broker_rejects", c.broker_rejects).field("unwinds", c.unwinds);
      w.field("chases", c.chases).end_object();
      metrics_.counter("pairflow_orders_total", "Orders sent to the broker").set(c.orders);
      metrics_.counter("pairflow_fills_total", "Fills booked").set(c.fills);
      metrics_.counter("pairflow_intents_total", "Spread intents submitted").set(c.intents);
    } else {
      w.field("kill_switch", "none").field("trading_state", "active");
    }
    w.end_object();
    if (data != risk_last_) {
      hub_.publish(Stream::kRisk, "state", data);
      risk_last_ = data;
    }
    hub_.set_document(
        "risk", json_list(data.substr(0, data.size() - 1) + R"(,"audit":[)", audit_recent_, "]}"));
  }
  for (const char* mode : {"none", "pause", "flatten", "halt"})
    metrics_.gauge("pairflow_kill_switch", "1 for the kill switch's current mode", {{"mode", mode}})
        .set(kill == mode ? 1 : 0);
  for (const char* s : {"active", "reduce_only", "halted"})
    metrics_.gauge("pairflow_trading_state", "1 for the current trading state", {{"state", s}})
        .set(trading == s ? 1 : 0);
  metrics_.gauge("pairflow_unhedged_notional", "Notional of legs filled without their other leg")
      .set(unhedged);
  metrics_.gauge("pairflow_equity", "Equity: cash plus marked positions").set(last_pnl_.equity);
  metrics_.gauge("pairflow_net_pnl", "Net P&L after fees").set(last_pnl_.net_pnl);
  const int active = actors ? actors->active_count() : 0;
  metrics_.gauge("pairflow_active_pairs", "Pairs the actors trade").set(active);

  // jobs: the embedded engine's two stages
  {
    std::map<std::string, std::string> now_jobs;
    std::string doc = R"({"jobs":[)";
    {
      std::string data;
      JsonWriter w(data);
      w.begin_object().field("name", "engine").field("messages_in", engine.ticks());
      w.field("messages_out", engine.intents()).field("rate_in", rate_in_).field("lag", 0);
      w.key("rejects").begin_object();
      for (int i = 0; i < static_cast<int>(RejectReason::kCount); ++i) {
        const auto reason = static_cast<RejectReason>(i);
        const auto n = engine.rejects(reason);
        if (n) w.field(reject_reason_name(reason), n);
        metrics_
            .counter("pairflow_job_rejects_total", "Input rejected, by job and reason",
                     {{"job", "engine"}, {"reason", reject_reason_name(reason)}})
            .set(static_cast<double>(n));
      }
      w.end_object().field("dlq", 0).field("bars", engine.bars()).end_object();
      doc += data;
      now_jobs["engine"] = std::move(data);
      metrics_
          .counter("pairflow_job_messages_in_total", "Messages a job consumed", {{"job", "engine"}})
          .set(static_cast<double>(engine.ticks()));
      metrics_
          .counter("pairflow_job_messages_out_total", "Messages a job produced",
                   {{"job", "engine"}})
          .set(static_cast<double>(engine.intents()));
      metrics_
          .gauge("pairflow_job_consumer_lag_messages", "Messages waiting for a job",
                 {{"job", "engine"}})
          .set(0);
      metrics_
          .counter("pairflow_job_dlq_messages_total",
                   "Messages a job sent to its dead-letter topic", {{"job", "engine"}})
          .set(0);
    }
    if (stage) {
      const auto& c = stage->service().counts();
      std::string data;
      JsonWriter w(data);
      w.begin_object().field("name", "execution").field("messages_in", engine.intents());
      w.field("messages_out", c.orders).field("rate_in", 0.0).field("lag", 0);
      w.key("rejects").begin_object().field("refused_intents", stage->refused_intents());
      w.field("denials", c.denials).field("broker_rejects", c.broker_rejects).end_object();
      w.field("dlq", 0).end_object();
      doc += ',';
      doc += data;
      now_jobs["execution"] = std::move(data);
      metrics_
          .counter("pairflow_job_messages_in_total", "Messages a job consumed",
                   {{"job", "execution"}})
          .set(static_cast<double>(engine.intents()));
      metrics_
          .counter("pairflow_job_messages_out_total", "Messages a job produced",
                   {{"job", "execution"}})
          .set(static_cast<double>(c.orders));
    }
    doc += "]}";
    hub_.set_document("jobs", std::move(doc));
    publish_if_changed(Stream::kJobs, jobs_last_, now_jobs);
  }

  // status
  {
    std::string doc;
    JsonWriter w(doc);
    w.begin_object().field("run", run_name_).field("state", state).field("ts", now);
    w.field("time", iso_time(now)).field("ticks", engine.ticks()).field("bars", engine.bars());
    w.field("slices", engine.slices()).field("speed", config_.speed);
    w.field("kill_switch", kill).field("trading_state", trading).field("active_pairs", active);
    w.field("equity", last_pnl_.equity).field("net_pnl", last_pnl_.net_pnl);
    w.field("controls", controls_)
        .field("uptime_s", std::chrono::duration<double>(Clock::now() - started_).count())
        .end_object();
    hub_.set_document("status", std::move(doc));
  }
}

}  // namespace pairflow::ui
