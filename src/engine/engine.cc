#include "engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "model/json.h"
#include "portfolio/performance.h"

namespace pairflow::engine {

namespace {
void write_line(std::FILE* f, const std::string& line) {
  if (!f) return;
  std::fwrite(line.data(), 1, line.size(), f);
  std::fputc('\n', f);
}
}  // namespace

RunLog::RunLog(const std::string& dir, const SymbolTable& symbols) : dir_(dir), symbols_(symbols) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw UserError(fmt::format("{}: cannot create log directory: {}", dir, ec.message()));
  auto open = [&](const char* name) {
    std::string path = fmt::format("{}/{}", dir, name);
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw UserError(fmt::format("{}: cannot write", path));
    return f;
  };
  signals = open("signals.jsonl");
  orders = open("orders.jsonl");
  executions = open("executions.jsonl");
  pnl = open("pnl.jsonl");
}

RunLog::~RunLog() {
  for (std::FILE* f : {signals, orders, executions, pnl})
    if (f) std::fclose(f);
}

void RunLog::close() {
  bool ok = true;
  for (std::FILE** f : {&signals, &orders, &executions, &pnl}) {
    if (*f) {
      ok = !std::ferror(*f) && ok;
      ok = std::fclose(*f) == 0 && ok;
      *f = nullptr;
    }
  }
  if (!ok) throw UserError(fmt::format("{}: writing the run logs failed", dir_));
}

void RunLog::on_signal(const Signal& signal) { write_line(signals, to_json(signal)); }
void RunLog::on_order(const Order& order) { write_line(orders, to_json(order, symbols_)); }
void RunLog::on_execution(const Execution& execution) {
  write_line(executions, to_json(execution, symbols_));
}
void RunLog::on_pnl(const PnL& p) { write_line(pnl, to_json(p)); }

Engine::Engine(const EngineConfig& config, SymbolTable& symbols, EngineObserver* log,
               IntentSink* sink)
    : config_(config), symbols_(symbols), log_(log), sink_(sink), bars_(config.bar_interval) {
  validate(config_);
  tick_observer_ = log_ && log_->wants_ticks();
  if (!sink_) {
    if (config_.broker_kind != "paper")
      throw UserError(
          "broker.kind = 'fix' is for the execution job (pairflow run PIPELINE.toml --job "
          "execution); demo and backtest trade with the paper broker");
    exec::StageEvents& events = *this;
    stage_ = std::make_unique<exec::ExecutionStage>(stage_config(config_), symbols_, events);
    const auto problems = stage_->start(0);
    if (!problems.empty()) {
      throw UserError(
          fmt::format("{}: the journal and the broker disagree ({}{}); trading stays blocked until "
                      "an operator acknowledges it",
                      config_.journal, problems.front(),
                      problems.size() > 1 ? fmt::format(" and {} more", problems.size() - 1) : ""));
    }
  }
}

Engine::~Engine() = default;

void Engine::on_order(const Order& order) {
  if (log_) log_->on_order(order);
}
void Engine::on_execution(const Execution& execution) {
  if (log_) log_->on_execution(execution);
}
void Engine::on_pnl(const PnL& pnl) {
  if (log_) log_->on_pnl(pnl);
}
void Engine::on_position(const Position& position) {
  if (log_) log_->on_position(position);
}
void Engine::on_pair_pnl(const exec::PairPnl& pair) {
  if (log_) log_->on_pair_pnl(pair);
}
void Engine::on_audit(const exec::AuditEntry& entry) {
  if (log_) log_->on_audit(entry);
}

Status Engine::reject(RejectReason reason, std::string detail) {
  if (location_) detail = location_(detail);
  return counted(reason, std::move(detail));
}

Status Engine::counted(RejectReason reason, std::string detail) {
  auto i = static_cast<int>(reason);
  if (rejects_[i]++ == 0) first_reject_[i] = detail;
  return Status(StatusCode::kInvalidArgument, std::move(detail));
}

void Engine::count_reject(RejectReason reason, const std::string& detail) {
  (void)counted(reason, detail);
}

Status Engine::on_tick(const Tick& tick) {
  if (tick.symbol >= symbols_.size())
    return reject(RejectReason::kUnknownSymbol, fmt::format("unknown symbol id {}", tick.symbol));
  std::string detail;
  if (auto reason = check_tick_values(tick, &detail)) return reject(*reason, std::move(detail));
  if (tick.ts < last_ts_) {
    return reject(RejectReason::kOutOfOrder,
                  fmt::format("timestamp {} is before the previous tick's {}",
                              format_timestamp(tick.ts), format_timestamp(last_ts_)));
  }
  last_ts_ = tick.ts;
  ++ticks_;
  if (tick_observer_) log_->on_tick(tick);
  if (timing_ && tick.ts >= timing_boundary_) {
    tick_wall_ = std::chrono::steady_clock::now();
    timing_boundary_ = (tick.ts / config_.bar_interval + 1) * config_.bar_interval;
  }
  // Bars first: a slice closed by this tick trades on the quotes of the closed interval.
  Status status = bars_.on_tick(
      tick, [this](Timestamp start, std::span<const Bar> bars) { on_slice(start, bars); });
  PAIRFLOW_CHECK(status.is_ok(), "bar aggregator rejected an in-order tick");
  market_.on_tick(tick);
  if (stage_) stage_->on_tick(tick);
  return Status::success();
}

void Engine::finish() {
  bars_.flush([this](Timestamp start, std::span<const Bar> bars) { on_slice(start, bars); });
  if (stage_) stage_->finish();
}

void Engine::on_slice(Timestamp start, std::span<const Bar> bars) {
  const Timestamp now = start + config_.bar_interval;
  std::chrono::steady_clock::time_point slice_wall;
  if (timing_) {
    slice_wall = std::chrono::steady_clock::now();
    timing_last_.tick_to_bar_s = std::chrono::duration<double>(slice_wall - tick_wall_).count();
  }
  ++slices_;
  bars_count_ += bars.size();
  last_slice_ = now;
  if (last_close_.size() < symbols_.size()) last_close_.resize(symbols_.size(), kNaN);
  for (const Bar& bar : bars) last_close_[bar.symbol] = bar.close;
  if (log_) log_->on_bars(bars);
  if (!selection_) {
    // The screener's universe is fixed when the first bar closes (later symbols are not screened).
    selection_ = make_pair_selection(config_, static_cast<int>(symbols_.size()));
    actor_universe_ = static_cast<int>(symbols_.size());
    actors_ = std::make_unique<pairs::PairActors>(actor_universe_, actors_config(config_));
  }
  log_close_.resize(last_close_.size());
  for (std::size_t s = 0; s < last_close_.size(); ++s)
    log_close_[s] = std::isfinite(last_close_[s]) ? std::log(last_close_[s]) : kNaN;
  selection_->observe(log_close_);
  // Active pairs trade this bar; what the selection decides takes effect from the next one.
  auto stepped = actors_->step(now, std::span(log_close_).first(actor_universe_));
  signals_.assign(stepped.begin(), stepped.end());
  trade_slice(now);
  std::chrono::steady_clock::time_point screen_wall;
  if (timing_) {
    screen_wall = std::chrono::steady_clock::now();
    timing_last_.bar_to_signal_s = std::chrono::duration<double>(screen_wall - slice_wall).count();
  }
  const std::uint64_t screens_before = selection_->screens();
  selections_.clear();
  selection_->select(
      now, slices_, [this](PairId id) { return actors_->state(id) == pairs::PairState::kFlat; },
      selections_);
  if (timing_) {
    timing_last_.screened = selection_->screens() != screens_before;
    timing_last_.screen_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - screen_wall).count();
  }
  for (const Selection& s : selections_) apply(s);
  // Everything up to `now` is decided: the stage marks, publishes P&L, checks the loss limits.
  const bool trading = selection_->ready();
  if (stage_) {
    stage_->on_slice(now, trading);
  } else {
    sink_->on_slice(now, trading);
  }
  if (log_) log_->on_slice_end(*this, now);
}

bool parse_pair_command(std::string_view text, PairCommand::Kind& kind) {
  using K = PairCommand::Kind;
  if (text == "enable")
    kind = K::kEnable;
  else if (text == "disable")
    kind = K::kDisable;
  else if (text == "flatten")
    kind = K::kFlatten;
  else if (text == "thresholds")
    kind = K::kThresholds;
  else
    return false;
  return true;
}

std::string Engine::pair_command(PairId id, const PairCommand& command) {
  if (!actors_ || !actors_->active(id)) return fmt::format("pair {} is not active", id);
  if (disabled_.size() <= id) disabled_.resize(id + 1, 0);
  switch (command.kind) {
    case PairCommand::Kind::kEnable:
      disabled_[id] = 0;
      return "";
    case PairCommand::Kind::kDisable:
      disabled_[id] = 1;
      return "";
    case PairCommand::Kind::kFlatten:
      disabled_[id] = 1;
      actors_->post_force_flat(id);
      if (std::find(flatten_pending_.begin(), flatten_pending_.end(), id) == flatten_pending_.end())
        flatten_pending_.push_back(id);
      return "";
    case PairCommand::Kind::kThresholds: {
      const double e = command.entry_z, x = command.exit_z, st = command.stop_z;
      if (!std::isfinite(e) || !std::isfinite(x) || !std::isfinite(st) || !(x >= 0) || !(x < e) ||
          !(e < st))
        return fmt::format("thresholds need 0 <= exit_z < entry_z < stop_z (got {}, {}, {})", e, x,
                           st);
      actors_->post_thresholds(id, e, x, st);
      return "";
    }
  }
  return "unknown pair command";
}

std::string Engine::command(const exec::ControlCommand& command) {
  if (!stage_)
    return R"({"ok":false,"error":"the execution stage runs in the execution job: send the command on its control topic"})";
  return stage_->on_command(command);
}

void Engine::apply(const Selection& selection) {
  const screen::PairControl& c = selection.control;
  if (log_) log_->on_control(c);
  if (c.action == screen::ControlAction::kDeactivate) {
    actors_->post_deactivate(c.pair);
    return;
  }
  const PairId id = c.pair;
  PAIRFLOW_CHECK(id == pair_legs_.size(), "pair selection gave pair ids out of order");
  pair_legs_.emplace_back(c.y, c.x);
  const int needed = static_cast<int>(std::max(c.y, c.x)) + 1;
  if (needed > actor_universe_) {  // a symbol first seen after the first bar (warm-up discovery)
    actor_universe_ = static_cast<int>(symbols_.size());
    actors_->grow_universe(actor_universe_);
  }
  actors_->post_activate(pairs::PairSpec{.id = id,
                                         .y = c.y,
                                         .x = c.x,
                                         .entry_z = c.entry_z,
                                         .exit_z = c.exit_z,
                                         .stop_z = c.stop_z,
                                         .max_hold_bars = c.max_hold_bars},
                         selection.seed_y, selection.seed_x);
  active_.push_back(selection.summary);
}

void Engine::trade_slice(Timestamp now) {
  const auto send = [&](exec::SpreadIntent& intent) {
    intent.id = exec::intent_id(intent.pair, now, intent.kind);
    ++intents_;
    if (stage_) {
      stage_->on_intent(intent);
    } else {
      sink_->on_intent(intent);
    }
  };
  for (const Signal& signal : signals_) {
    if (log_) log_->on_signal(signal);
    const auto [y, x] = pair_legs_[signal.pair];
    exec::SpreadIntent intent{.pair = signal.pair,
                              .ts = now,
                              .y = {y, 0},
                              .x = {x, 0},
                              .hedge_ratio = signal.hedge_ratio};
    if (signal.action == SignalAction::kEnterLong || signal.action == SignalAction::kEnterShort) {
      if (!pair_enabled(signal.pair)) {  // an operator switched the pair off: back to flat
        ++disabled_entries_;
        actors_->post_force_flat(signal.pair);
        continue;
      }
      auto target = portfolio::size_entry(config_.sizing, signal, market_.mid(y), market_.mid(x));
      if (!target) {
        // Counted, and the pair's model goes back to flat: nothing was sent.
        if (refused_signals_++ == 0) first_refused_signal_ = target.status().message();
        actors_->post_force_flat(signal.pair);
        continue;
      }
      intent.kind = exec::IntentKind::kEntry;
      intent.y.qty = target->first;
      intent.x.qty = target->second;
    } else if (signal.action == SignalAction::kExit || signal.action == SignalAction::kStop) {
      intent.kind = exec::IntentKind::kExit;
    } else {
      continue;
    }
    send(intent);
  }
  // An operator's flatten: the pair's model is flat already (posted), its position exits now.
  for (PairId id : flatten_pending_) {
    const bool exited = std::any_of(signals_.begin(), signals_.end(), [&](const Signal& s) {
      return s.pair == id && (s.action == SignalAction::kExit || s.action == SignalAction::kStop);
    });
    if (exited || id >= pair_legs_.size()) continue;
    const auto [y, x] = pair_legs_[id];
    exec::SpreadIntent intent{.pair = id,
                              .ts = now,
                              .kind = exec::IntentKind::kExit,
                              .y = {y, 0},
                              .x = {x, 0},
                              .hedge_ratio = actors_->hedge_ratio(id)};
    send(intent);
  }
  flatten_pending_.clear();
}

void add_execution(Summary& s, const exec::ExecutionStage& stage, const EngineConfig& config,
                   const SymbolTable& symbols, Timestamp now) {
  for (const Position& p : stage.books().positions())
    if (p.qty != 0) s.positions[symbols.name(p.symbol)] = p.qty;
  const exec::ExecutionService& service = stage.service();
  const auto& c = service.counts();
  s.orders = c.orders;
  s.fills = c.fills;
  s.rejected_orders = c.denials + c.broker_rejects;
  s.intents_failed = c.intents_failed;
  s.unwinds = c.unwinds;
  s.chases = c.chases;
  for (int d = 1; d < static_cast<int>(exec::Denial::kCount); ++d) {
    const auto n = service.risk().denials(static_cast<exec::Denial>(d));
    if (n) s.denials[exec::denial_name(static_cast<exec::Denial>(d))] = n;
  }
  s.kill_switch = exec::to_string(service.kill_switch().mode());
  s.trading_state = exec::to_string(service.trading_state());
  s.unhedged_notional = service.unhedged_notional();
  const PnL pnl = stage.books().pnl(now);
  s.gross_pnl = pnl.gross_pnl;
  s.net_pnl = pnl.net_pnl;
  s.fees = pnl.fees;
  s.realism_cost = service.realism_cost();
  s.ideal_net_pnl = stage.ideal_net_pnl(pnl.net_pnl);
  s.initial_capital = config.capital();
  s.trades = 0;
  for (const portfolio::PairBook& b : stage.books().pairs()) s.trades += b.trades;
  // Sharpe from per-bar equity changes relative to capital, annualised with 252 sessions of
  // 6.5 hours of bars; drawdown from the same equity curve (starting at the initial capital).
  const double bars_per_year =
      252.0 * 6.5 * kNanosPerHour / static_cast<double>(config.bar_interval);
  const portfolio::Performance perf =
      portfolio::performance(stage.equity_curve(), config.capital(), bars_per_year);
  s.sharpe = perf.sharpe;
  s.max_drawdown = perf.max_drawdown;
  s.max_drawdown_pct = perf.max_drawdown_pct;
}

Summary Engine::summary() const {
  Summary s;
  s.ticks = ticks_;
  for (int i = 0; i < static_cast<int>(RejectReason::kCount); ++i) {
    if (rejects_[i] == 0) continue;
    s.rejected_ticks += rejects_[i];
    s.rejects[reject_reason_name(static_cast<RejectReason>(i))] = rejects_[i];
    s.first_reject[reject_reason_name(static_cast<RejectReason>(i))] = first_reject_[i];
  }
  s.bars = bars_count_;
  s.slices = slices_;
  s.symbols = static_cast<int>(symbols_.size());
  s.intents = intents_;
  s.refused_signals = refused_signals_;
  s.first_refused_signal = first_refused_signal_;
  s.warmup_bars = config_.warmup_bars;
  s.warmup_complete = discovered();
  s.initial_capital = config_.capital();
  if (stage_) {
    add_execution(s, *stage_, config_, symbols_, std::max(last_slice_, stage_->now()));
  } else {
    s.part = Summary::Part::kDecisions;
  }
  s.discovery_tests = selection_ ? selection_->tests() : 0;
  s.discovery_passing = selection_ ? selection_->passing() : 0;
  for (std::size_t p = 0; p < active_.size(); ++p) {
    const auto& c = active_[p];
    PairSummary ps;
    ps.y = symbols_.name(c.y);
    ps.x = symbols_.name(c.x);
    ps.hedge_ratio = c.hedge_ratio;
    ps.intercept = c.intercept;
    ps.pvalue = c.pvalue;
    ps.adj_pvalue = c.adj_pvalue;
    ps.half_life = c.half_life;
    if (stage_ && p < stage_->books().pairs().size()) {
      ps.trades = stage_->books().pairs()[p].trades;
      ps.net_pnl = stage_->books().pair_net_pnl(static_cast<PairId>(p));
    }
    s.pairs.push_back(ps);
  }
  return s;
}

}  // namespace pairflow::engine
