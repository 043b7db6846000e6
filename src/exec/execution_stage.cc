#include "exec/execution_stage.h"

#include <fmt/format.h>

#include <cmath>

#include "base/json_writer.h"

namespace pairflow::exec {

std::string to_json(const PairPnl& p, const SymbolTable& symbols) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("ts", p.ts).field("pair", p.pair).field("y", symbols.name(p.y));
  w.field("x", symbols.name(p.x)).field("qty_y", p.qty_y).field("qty_x", p.qty_x);
  w.field("net_pnl", p.net_pnl).field("fees", p.fees).field("trades", p.trades).end_object();
  return out;
}

namespace {
std::unique_ptr<Broker> paper_or(std::unique_ptr<Broker> broker, const PaperConfig& config,
                                 PaperBroker*& paper) {
  if (broker) return broker;
  auto p = std::make_unique<PaperBroker>(config);
  paper = p.get();
  return p;
}
}  // namespace

ExecutionStage::ExecutionStage(const StageConfig& config, SymbolTable& symbols, StageEvents& events,
                               std::unique_ptr<Broker> broker,
                               std::unique_ptr<OrderJournal> journal)
    : config_(config),
      symbols_(symbols),
      events_(events),
      broker_(paper_or(std::move(broker), config.paper, paper_)),
      journal_(journal ? std::move(journal)
               : config.journal_path.empty()
                   ? nullptr
                   : std::make_unique<SqliteJournal>(config.journal_path, symbols,
                                                     config.journal_full_sync)),
      service_(config.exec, *broker_, market_, symbols, *this, journal_.get()),
      books_(config.initial_capital) {
  if (!config.audit_path.empty()) {
    audit_ = std::fopen(config.audit_path.c_str(), "a");
    if (!audit_)
      throw UserError(
          fmt::format("{}: cannot append to the kill switch audit log", config.audit_path));
  }
}

ExecutionStage::~ExecutionStage() {
  if (audit_) std::fclose(audit_);
}

std::vector<std::string> ExecutionStage::start(Timestamp now) {
  now_ = now;
  if (!journal_) return {};
  if (paper_) paper_->restore(journal_->orders());
  // The pairs' legs, so that fills the journal replays are attributed to them.
  for (const IntentRecord& r : journal_->intents())
    books_.set_pair(r.intent.pair, r.intent.y.symbol, r.intent.x.symbol);
  for (const OrderRecord& r : journal_->orders()) {
    if (!(r.filled > 0)) continue;
    books_.on_fill(Execution{.client_order_id = r.order.client_order_id,
                             .ts = r.updated,
                             .symbol = r.order.symbol,
                             .side = r.order.side,
                             .qty = r.filled,
                             .price = r.avg_price,
                             .fee = r.fees,
                             .status = ExecStatus::kFilled,
                             .pair = r.order.pair});
  }
  return service_.recover(now);
}

void ExecutionStage::on_tick(const Tick& tick) {
  if (tick.ts > now_) now_ = tick.ts;
  market_.on_tick(tick);
  if (paper_) paper_->on_tick(tick);
  pump(now_);
}

bool ExecutionStage::on_intent(const SpreadIntent& target) {
  if (target.ts > now_) now_ = target.ts;
  if (service_.known_intent(target.id)) {
    ++duplicate_intents_;  // delivered again (a replay after a restart): done once already
    return true;
  }
  if (target.pair == kNoPair || target.y.symbol == target.x.symbol) {
    ++refused_intents_;
    return false;
  }
  const auto& pairs = books_.pairs();
  if (target.pair < pairs.size() &&
      (pairs[target.pair].qty_y != 0 || pairs[target.pair].qty_x != 0) &&
      (pairs[target.pair].y != target.y.symbol || pairs[target.pair].x != target.x.symbol)) {
    ++refused_intents_;  // a pair id reused for other legs while it still holds a position
    return false;
  }
  books_.set_pair(target.pair, target.y.symbol, target.x.symbol);
  service_.set_pair(target.pair, target.y.symbol, target.x.symbol);
  if (service_.pair_busy(target.pair)) {
    service_.supersede(target.pair, now_);
    pending_[target.pair] = target;
    pump(now_);
    return true;
  }
  submit_target(target);
  return true;
}

void ExecutionStage::submit_target(const SpreadIntent& target) {
  const auto [held_y, held_x] = service_.pair_position(target.pair);
  SpreadIntent delta = target;
  delta.y.qty = target.y.qty - held_y;
  delta.x.qty = target.x.qty - held_x;
  // A pair trade counts when its entry passed risk and went to the broker.
  if (service_.submit(delta, now_) && target.kind == IntentKind::kEntry)
    books_.note_entry(target.pair, target.hedge_ratio);
}

void ExecutionStage::pump(Timestamp now) {
  service_.on_time(now);
  while (!pending_.empty()) {
    bool moved = false;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (service_.pair_busy(it->first)) {
        ++it;
        continue;
      }
      const SpreadIntent target = it->second;
      it = pending_.erase(it);
      submit_target(target);
      moved = true;
    }
    if (!moved) break;
  }
}

void ExecutionStage::on_slice(Timestamp now, bool trading) {
  if (now > now_) now_ = now;
  pump(now_);
  const std::size_t n = symbols_.size();
  for (SymbolId s = 0; s < n; ++s) {
    const double last = market_.last(s);
    if (std::isfinite(last)) books_.mark(s, last);
  }
  const PnL pnl = books_.pnl(now_);
  service_.on_equity(now_, pnl.equity);
  if (trading) equity_.push_back(pnl.equity);
  events_.on_pnl(pnl);
  const auto& positions = books_.positions();
  for (std::size_t s = 0; s < traded_symbols_.size(); ++s) {
    if (!traded_symbols_[s] || s >= positions.size()) continue;
    Position p = positions[s];
    p.ts = now_;
    events_.on_position(p);
    traded_symbols_[s] = 0;
  }
  const auto& pairs = books_.pairs();
  for (PairId id = 0; id < pairs.size(); ++id) {
    const portfolio::PairBook& b = pairs[id];
    const bool traded = id < traded_pairs_.size() && traded_pairs_[id];
    if (!traded && b.qty_y == 0 && b.qty_x == 0) continue;
    events_.on_pair_pnl(PairPnl{.ts = now_,
                                .pair = id,
                                .y = b.y,
                                .x = b.x,
                                .qty_y = b.qty_y,
                                .qty_x = b.qty_x,
                                .net_pnl = books_.pair_net_pnl(id),
                                .fees = b.fees,
                                .trades = b.trades});
    if (traded) traded_pairs_[id] = 0;
  }
}

void ExecutionStage::finish() {
  if (paper_) paper_->finish();
  // Orders still working (resting limits, legs of an intent in progress) get their time: the
  // legging policy's timeouts run out at the last market.
  const Timestamp timeout = config_.exec.legging.leg_timeout;
  for (int round = 0; round < 2 * config_.exec.legging.max_attempts + 4; ++round) {
    pump(now_);
    if (paper_) paper_->finish();
    if (service_.idle()) break;
    if (timeout > 0) now_ += timeout + 1;
  }
  pump(now_);
}

void ExecutionStage::on_order(const Order& order) { events_.on_order(order); }

void ExecutionStage::on_execution(const Execution& e) {
  if (e.qty > 0 || e.fee != 0) {
    books_.on_fill(e);
    if (traded_symbols_.size() <= e.symbol) traded_symbols_.resize(e.symbol + 1, 0);
    traded_symbols_[e.symbol] = 1;
    if (e.pair != kNoPair) {
      if (traded_pairs_.size() <= e.pair) traded_pairs_.resize(e.pair + 1, 0);
      traded_pairs_[e.pair] = 1;
    }
  }
  events_.on_execution(e);
}

void ExecutionStage::on_kill_switch(const AuditEntry& entry) {
  if (audit_) {
    const std::string line = entry.to_json();
    std::fprintf(audit_, "%s\n", line.c_str());
    std::fflush(audit_);
  }
  events_.on_audit(entry);
}

double ExecutionStage::ideal_net_pnl(double net_pnl) const {
  return net_pnl + service_.realism_cost();
}

std::string ExecutionStage::status_json(bool ok, const std::string& error) const {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("ok", ok);
  if (!error.empty()) w.field("error", error);
  w.field("ts", now_).field("kill_switch", to_string(service_.kill_switch().mode()));
  w.field("trading_state", to_string(service_.trading_state()));
  w.field("blocked", service_.blocked()).field("idle", service_.idle());
  w.field("unhedged_notional", service_.unhedged_notional());
  const PnL pnl = books_.pnl(now_);
  w.field("equity", pnl.equity).field("net_pnl", pnl.net_pnl);
  w.field("orders", service_.counts().orders).field("fills", service_.counts().fills);
  w.field("denials", service_.counts().denials).end_object();
  return out;
}

std::string ExecutionStage::on_command(const ControlCommand& c) {
  const std::string by = c.by;
  switch (c.kind) {
    case CommandKind::kKill:
      service_.kill(c.mode, now_, by, c.reason);
      pump(now_);
      return status_json(true);
    case CommandKind::kResume:
      if (service_.kill_switch().mode() != KillMode::kPause ||
          service_.trading_state() != TradingState::kActive) {
        return status_json(false,
                           fmt::format("resume lifts only an operator's pause (the switch is at "
                                       "{}, trading {}): use rearm",
                                       to_string(service_.kill_switch().mode()),
                                       to_string(service_.trading_state())));
      }
      service_.rearm(now_, by, books_.pnl(now_).equity, c.reason, "resume");
      return status_json(true);
    case CommandKind::kRearm:
      service_.rearm(now_, by, books_.pnl(now_).equity, c.reason);
      return status_json(true);
    case CommandKind::kAcknowledge:
      service_.acknowledge(now_, by);
      return status_json(true);
    case CommandKind::kStatus:
      return status_json(true);
  }
  return status_json(false, "unknown command");
}

}  // namespace pairflow::exec
