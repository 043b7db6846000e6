#include "exec/execution.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/crash_point.h"

namespace pairflow::exec {
namespace {

constexpr double kEps = 1e-9;

// Executions carry a reason code from a fixed set (static text); a broker's own words are kept in
// the order record and the journal.
const char* reason_code(std::string_view broker_reason, const char* fallback) {
  static constexpr const char* kKnown[] = {
      "invalid_order", "no_market_data", "unknown_symbol",   "no_more_liquidity",
      "cancelled",     "leg_timeout",    "throttled",        "session_down",
      "unknown_order", "too_late",       "limit_not_reached"};
  for (const char* code : kKnown)
    if (broker_reason == code) return code;
  return fallback;
}

Side side_of(double signed_qty) { return signed_qty >= 0 ? Side::kBuy : Side::kSell; }
double signed_qty(const Order& o, double qty) { return o.side == Side::kBuy ? qty : -qty; }

}  // namespace

const char* to_string(LeggingPolicy policy) {
  return policy == LeggingPolicy::kUnwind ? "unwind" : "chase";
}

ExecutionService::ExecutionService(const ExecConfig& config, Broker& broker,
                                   const MarketBook& market, SymbolTable& symbols,
                                   ExecutionEvents& events, OrderJournal* journal)
    : config_(config),
      broker_(broker),
      market_(market),
      symbols_(symbols),
      events_(events),
      journal_(journal),
      risk_(config.risk),
      kill_([this](const AuditEntry& e) { events_.on_kill_switch(e); }) {}

double ExecutionService::position(SymbolId symbol) const {
  return symbol < positions_.size() ? positions_[symbol] : 0;
}

std::pair<double, double> ExecutionService::pair_position(PairId pair) const {
  auto it = pairs_.find(pair);
  return it == pairs_.end() ? std::pair{0.0, 0.0} : std::pair{it->second.qty_y, it->second.qty_x};
}

bool ExecutionService::idle() const {
  for (const auto& [id, r] : orders_)
    if (!is_terminal(r.status)) return false;
  return true;
}

double ExecutionService::unhedged_notional() const {
  double total = 0;
  for (const auto& [id, s] : intents_) {
    const SpreadIntent& i = s.record.intent;
    if (std::fabs(i.y.qty) < kEps || std::fabs(i.x.qty) < kEps) continue;
    const double fy = s.filled_y / i.y.qty, fx = s.filled_x / i.x.qty;
    const double py = market_.mid(i.y.symbol), px = market_.mid(i.x.symbol);
    if (!std::isfinite(py) || !std::isfinite(px)) continue;
    total += std::fabs(fy - fx) * 0.5 * (std::fabs(i.y.qty) * py + std::fabs(i.x.qty) * px);
  }
  return total;
}

bool ExecutionService::adds_risk(const IntentState& s, LegRole role) const {
  return s.record.intent.kind == IntentKind::kEntry && role != LegRole::kUnwind;
}

RiskView ExecutionService::view_of(SymbolId symbol, Timestamp now) const {
  RiskView v;
  v.now = now;
  v.bid = market_.bid(symbol);
  v.ask = market_.ask(symbol);
  v.last = market_.last(symbol);
  v.quote_ts = market_.ts(symbol);
  // Positions with working orders as if they filled: the limits hold whatever fills next.
  std::vector<double>& exposure = exposure_;
  exposure.assign(positions_.begin(), positions_.end());
  exposure.resize(std::max<std::size_t>(exposure.size(), symbol + 1), 0);
  for (const auto& [id, r] : orders_) {
    if (is_terminal(r.status)) continue;
    if (r.order.symbol >= exposure.size()) exposure.resize(r.order.symbol + 1, 0);
    exposure[r.order.symbol] += signed_qty(r.order, r.remaining());
  }
  v.position = exposure[symbol];
  for (SymbolId s = 0; s < exposure.size(); ++s) {
    if (exposure[s] == 0) continue;
    const double mid = market_.mid(s);
    if (!std::isfinite(mid)) continue;
    v.gross_exposure += std::fabs(exposure[s]) * mid;
    v.net_exposure += exposure[s] * mid;
  }
  v.unhedged_notional = unhedged_notional();
  return v;
}

Order ExecutionService::make_order(const IntentState& s, LegRole role, SymbolId symbol, double qty,
                                   Timestamp now, bool marketable_limit) {
  const SpreadIntent& i = s.record.intent;
  Order o;
  o.client_order_id = client_order_id(i.id, role, s.record.attempts);
  o.ts = now;
  o.symbol = symbol;
  o.side = side_of(qty);
  o.qty = std::fabs(qty);
  o.pair = i.pair;
  if (marketable_limit) {
    const double touch = market_.touch(symbol, o.side);
    const double cap = config_.legging.chase_slippage_bps / 1e4;
    if (std::isfinite(touch)) {
      o.type = OrderType::kLimit;
      o.limit = o.side == Side::kBuy ? touch * (1 + cap) : touch * (1 - cap);
    }
  }
  return o;
}

Execution ExecutionService::execution_of(const OrderRecord& r, ExecStatus status, Timestamp ts,
                                         double qty, double price, double fee,
                                         const char* reason) const {
  return Execution{.client_order_id = r.order.client_order_id,
                   .ts = ts,
                   .symbol = r.order.symbol,
                   .side = r.order.side,
                   .qty = qty,
                   .price = price,
                   .fee = fee,
                   .status = status,
                   .reason = reason,
                   .pair = r.order.pair};
}

void ExecutionService::deny(const Order& order, const char* reason, Timestamp now) {
  ++counts_.denials;
  OrderRecord r;
  r.order = order;
  events_.on_execution(execution_of(r, ExecStatus::kRejected, now, 0, kNaN, 0, reason));
}

void ExecutionService::journal(const OrderRecord& r) {
  if (journal_) journal_->record(r);
}

void ExecutionService::journal(const IntentState& s) {
  if (journal_) journal_->record(s.record);
}

bool ExecutionService::send(IntentState& s, const Order& order, LegRole role, bool adds,
                            Timestamp now) {
  if (blocked_) {
    deny(order, "reconciliation_pending", now);
    return false;
  }
  const KillMode k = kill_.mode();
  const bool flattening = s.record.intent.kind == IntentKind::kFlatten;
  if (k == KillMode::kHalt || (k == KillMode::kFlatten && !flattening && adds) ||
      (k == KillMode::kPause && adds)) {
    risk_.count(Denial::kKillSwitch);
    deny(order, denial_name(Denial::kKillSwitch), now);
    return false;
  }
  const Denial d = risk_.check(order, adds, view_of(order.symbol, now));
  if (d != Denial::kNone) {
    deny(order, denial_name(d), now);
    return false;
  }
  OrderRecord r;
  r.order = order;
  r.intent = s.record.intent.id;
  r.role = role;
  r.status = OrderStatus::kNew;
  r.ideal_price = market_.touch(order.symbol, order.side);
  r.updated = now;
  crash_point("before_journal");
  journal(r);  // write-ahead: a crash from here on finds the order in the journal
  crash_point("before_send");
  orders_[order.client_order_id] = r;
  intent_of_[order.client_order_id] = s.record.intent.id;
  s.orders.push_back(order.client_order_id);
  ++counts_.orders;
  events_.on_order(order);
  broker_.send(order, now);
  crash_point("after_send");  // the first hit: between the two legs of an entry
  OrderRecord& sent = orders_[order.client_order_id];
  sent.status = OrderStatus::kSent;
  journal(sent);
  return true;
}

bool ExecutionService::pair_busy(PairId pair) const {
  for (const auto& [id, s] : intents_)
    if (s.record.intent.pair == pair && !s.record.done) return true;
  return false;
}

void ExecutionService::supersede(PairId pair, Timestamp now) {
  for (auto& [id, s] : intents_) {
    if (s.record.intent.pair != pair || s.record.done) continue;
    s.superseded = true;
    for (std::uint64_t oid : s.orders) {
      if (!is_terminal(orders_.at(oid).status)) broker_.cancel(oid, now);
    }
  }
}

void ExecutionService::set_pair(PairId pair, SymbolId y, SymbolId x) {
  PairPosition& p = pairs_[pair];
  p.y = y;
  p.x = x;
}

std::vector<PairId> ExecutionService::pairs_with_position() const {
  std::vector<PairId> out;
  for (const auto& [pair, p] : pairs_)
    if (std::fabs(p.qty_y) > kEps || std::fabs(p.qty_x) > kEps) out.push_back(pair);
  return out;
}

bool ExecutionService::submit(const SpreadIntent& intent, Timestamp now) {
  if (!seen_intents_.insert(intent.id).second) return false;  // the same decision again
  IntentState s;
  s.record.intent = intent;
  s.sent = now;
  const bool entry = intent.kind == IntentKind::kEntry;
  // Both legs are judged before either leaves.
  std::vector<std::pair<LegRole, Order>> legs;
  if (std::fabs(intent.y.qty) > kEps)
    legs.push_back(
        {LegRole::kY, make_order(s, LegRole::kY, intent.y.symbol, intent.y.qty, now, false)});
  if (std::fabs(intent.x.qty) > kEps)
    legs.push_back(
        {LegRole::kX, make_order(s, LegRole::kX, intent.x.symbol, intent.x.qty, now, false)});
  if (legs.empty()) return true;
  const char* denied = nullptr;
  double gross = 0;
  for (const auto& [role, o] : legs) gross += o.qty * market_.mid(o.symbol);
  if (entry && risk_.check_intent(gross) != Denial::kNone) {
    risk_.count(Denial::kPairCapital);
    denied = denial_name(Denial::kPairCapital);
  } else if (entry && config_.risk.max_unhedged_notional > 0 &&
             unhedged_notional() > config_.risk.max_unhedged_notional) {
    risk_.count(Denial::kUnhedged);
    denied = denial_name(Denial::kUnhedged);
  } else if (entry && kill_.mode() != KillMode::kNone) {
    risk_.count(Denial::kKillSwitch);
    denied = denial_name(Denial::kKillSwitch);
  } else if (blocked_) {
    denied = "reconciliation_pending";
  }
  if (!denied) {
    // Dry run of every leg's rules, so that one leg is never sent alone.
    int pending = 0;
    for (const auto& [role, o] : legs) {
      const Denial d = risk_.evaluate(o, adds_risk(s, role), view_of(o.symbol, now), pending++);
      if (d != Denial::kNone) {
        risk_.count(d);
        denied = denial_name(d);
        break;
      }
    }
  }
  if (denied) {
    for (const auto& [role, o] : legs) deny(o, denied, now);
    ++counts_.intents_failed;  // decided, never traded: counted with the intents that failed
    return false;
  }
  ++counts_.intents;
  PairPosition& p = pairs_[intent.pair];
  p.y = intent.y.symbol;
  p.x = intent.x.symbol;
  if (journal_) journal_->record(s.record);
  auto [it, inserted] = intents_.emplace(intent.id, std::move(s));
  intent_order_.push_back(intent.id);
  for (const auto& [role, o] : legs) send(it->second, o, role, adds_risk(it->second, role), now);
  on_time(now);
  return true;
}

void ExecutionService::handle(const BrokerReport& rep) {
  auto it = orders_.find(rep.client_order_id);
  if (it == orders_.end()) return;  // not ours (another instance's order on a shared session)
  OrderRecord& r = it->second;
  if (is_terminal(r.status)) return;  // a late or duplicate report for a finished order
  if (rep.kind == ReportKind::kReject && rep.reason == "duplicate_client_order_id") return;
  const Timestamp ts = rep.ts;
  r.updated = ts;
  switch (rep.kind) {
    case ReportKind::kAck:
      if (can_move(r.status, OrderStatus::kAcknowledged)) r.status = OrderStatus::kAcknowledged;
      journal(r);
      crash_point("after_ack");
      events_.on_execution(execution_of(r, ExecStatus::kAcknowledged, ts, 0, kNaN, 0, ""));
      return;
    case ReportKind::kFill: {
      const double q = std::min(rep.qty, r.remaining());
      if (q <= 0) return;
      r.avg_price =
          r.filled > 0 ? (r.avg_price * r.filled + rep.price * q) / (r.filled + q) : rep.price;
      r.filled += q;
      r.fees += rep.fee;
      const bool done = r.remaining() <= kEps || rep.done;
      r.status = done ? OrderStatus::kFilled : OrderStatus::kPartiallyFilled;
      if (done && r.remaining() > kEps) r.status = OrderStatus::kExpired;
      crash_point("before_fill_journal");
      journal(r);
      if (r.status == OrderStatus::kPartiallyFilled) crash_point("between_fills");
      ++counts_.fills;
      book_fill(r, q);
      if (std::isfinite(r.ideal_price))
        realism_cost_ +=
            (r.order.side == Side::kBuy ? rep.price - r.ideal_price : r.ideal_price - rep.price) *
            q;
      events_.on_execution(execution_of(
          r, r.remaining() <= kEps ? ExecStatus::kFilled : ExecStatus::kPartiallyFilled, ts, q,
          rep.price, rep.fee, ""));
      if (r.status == OrderStatus::kExpired) {
        ++counts_.expiries;
        events_.on_execution(execution_of(r, ExecStatus::kExpired, ts, 0, kNaN, 0, "expired"));
      }
      return;
    }
    case ReportKind::kReject:
      r.status = OrderStatus::kRejected;
      r.reason = rep.reason;
      ++counts_.broker_rejects;
      break;
    case ReportKind::kCancelled:
      r.status = OrderStatus::kCancelled;
      r.reason = rep.reason;
      ++counts_.cancels;
      break;
    case ReportKind::kExpired:
      r.status = OrderStatus::kExpired;
      r.reason = rep.reason;
      ++counts_.expiries;
      break;
    case ReportKind::kCancelReject:
      return;  // the order had already ended; its own report says how
  }
  r.fees += rep.fee;
  journal(r);
  // The broker's reason is not a static string: executions carry a code from a fixed set.
  const char* code = reason_code(rep.reason, r.status == OrderStatus::kRejected    ? "broker_reject"
                                             : r.status == OrderStatus::kCancelled ? "cancelled"
                                                                                   : "expired");
  events_.on_execution(execution_of(r,
                                    r.status == OrderStatus::kRejected    ? ExecStatus::kRejected
                                    : r.status == OrderStatus::kCancelled ? ExecStatus::kCancelled
                                                                          : ExecStatus::kExpired,
                                    ts, 0, kNaN, rep.fee, code));
}

void ExecutionService::book_fill(const OrderRecord& r, double qty) {
  const double sq = signed_qty(r.order, qty);
  if (r.order.symbol >= positions_.size()) positions_.resize(r.order.symbol + 1, 0);
  positions_[r.order.symbol] += sq;
  auto pit = pairs_.find(r.order.pair);
  if (pit != pairs_.end()) {
    if (r.order.symbol == pit->second.y) pit->second.qty_y += sq;
    if (r.order.symbol == pit->second.x) pit->second.qty_x += sq;
  }
  auto iit = intents_.find(r.intent);
  if (iit != intents_.end()) {
    const SpreadIntent& i = iit->second.record.intent;
    if (r.order.symbol == i.y.symbol) iit->second.filled_y += sq;
    if (r.order.symbol == i.x.symbol) iit->second.filled_x += sq;
  }
}

void ExecutionService::evaluate(IntentState& s, Timestamp now) {
  const SpreadIntent& i = s.record.intent;
  bool live = false;
  for (std::uint64_t id : s.orders) live = live || !is_terminal(orders_.at(id).status);
  if (live) return;
  if (s.superseded) {  // a newer intent for the pair takes over from what this one left
    s.record.done = true;
    journal(s);
    events_.on_intent_end(i, false);
    return;
  }
  const double miss_y = i.y.qty - s.filled_y, miss_x = i.x.qty - s.filled_x;
  const bool complete = std::fabs(miss_y) <= kEps && std::fabs(miss_x) <= kEps;
  if (s.unwinding) {
    if (std::fabs(s.filled_y) <= kEps && std::fabs(s.filled_x) <= kEps) {
      s.record.done = true;
      ++counts_.intents_failed;
      journal(s);
      events_.on_intent_end(i, false);
      return;
    }
    if (s.record.attempts >= config_.legging.max_attempts + 2) {  // could not even unwind
      s.record.done = true;
      ++counts_.intents_failed;
      journal(s);
      events_.on_intent_end(i, false);
      return;
    }
    ++s.record.attempts;
    journal(s);
    if (std::fabs(s.filled_y) > kEps)
      send(s, make_order(s, LegRole::kUnwind, i.y.symbol, -s.filled_y, now, false),
           LegRole::kUnwind, false, now);
    if (std::fabs(s.filled_x) > kEps)
      send(s, make_order(s, LegRole::kUnwind, i.x.symbol, -s.filled_x, now, false),
           LegRole::kUnwind, false, now);
    ++counts_.unwinds;
    return;
  }
  if (complete) {
    s.record.done = true;
    journal(s);
    events_.on_intent_end(i, true);
    return;
  }
  const bool must_complete = i.kind != IntentKind::kEntry;
  const bool nothing_filled = std::fabs(s.filled_y) <= kEps && std::fabs(s.filled_x) <= kEps;
  if (!must_complete && nothing_filled) {  // both legs failed before any fill: nothing to undo
    s.record.done = true;
    ++counts_.intents_failed;
    journal(s);
    events_.on_intent_end(i, false);
    return;
  }
  const bool chase = must_complete || config_.legging.policy == LeggingPolicy::kChase;
  if (chase && s.record.attempts < config_.legging.max_attempts &&
      (must_complete || kill_.mode() == KillMode::kNone)) {
    ++s.record.attempts;
    journal(s);
    // The last attempt of an exit is a market order: an exit must complete.
    const bool last = s.record.attempts >= config_.legging.max_attempts;
    const bool limit = !(must_complete && last);
    if (std::fabs(miss_y) > kEps)
      send(s, make_order(s, LegRole::kChase, i.y.symbol, miss_y, now, limit), LegRole::kChase,
           adds_risk(s, LegRole::kChase), now);
    if (std::fabs(miss_x) > kEps)
      send(s, make_order(s, LegRole::kChase, i.x.symbol, miss_x, now, limit), LegRole::kChase,
           adds_risk(s, LegRole::kChase), now);
    ++counts_.chases;
    return;
  }
  if (must_complete) {  // out of attempts: the rest stays unhedged, and visible
    s.record.done = true;
    ++counts_.intents_failed;
    journal(s);
    events_.on_intent_end(i, false);
    return;
  }
  s.unwinding = true;  // the entry did not complete: back to flat
  evaluate(s, now);
}

void ExecutionService::cancel_working(Timestamp now, bool keep_flatten) {
  for (auto& [id, r] : orders_) {
    if (is_terminal(r.status)) continue;
    auto iit = intents_.find(r.intent);
    if (keep_flatten && iit != intents_.end() &&
        iit->second.record.intent.kind == IntentKind::kFlatten)
      continue;
    broker_.cancel(id, now);
  }
}

void ExecutionService::flatten(Timestamp now) {
  // Pairs with a position and nothing working get a hedged exit of everything they hold.
  for (const auto& [pair, p] : pairs_) {
    if (std::fabs(p.qty_y) <= kEps && std::fabs(p.qty_x) <= kEps) continue;
    bool working = false;
    for (const auto& [id, s] : intents_)
      working = working || (s.record.intent.pair == pair && !s.record.done);
    if (working) continue;
    SpreadIntent i;
    i.pair = pair;
    i.ts = now;
    i.kind = IntentKind::kFlatten;
    i.id = intent_id(pair, now, IntentKind::kFlatten);
    i.y = {p.y, -p.qty_y};
    i.x = {p.x, -p.qty_x};
    submit(i, now);
  }
}

void ExecutionService::on_time(Timestamp now) {
  // Rounds: what the legging policy sends in reaction to a report may be answered at once (a
  // broker with no latency), and that answer may need a reaction too. Bounded: each round needs
  // new orders, and intents run out of attempts.
  for (int round = 0; round < 16; ++round) {
    broker_.advance(now);
    reports_.clear();
    broker_.poll(reports_);
    for (const BrokerReport& r : reports_) handle(r);
    // Legs still working past the timeout are cancelled; their cancel report brings the policy.
    if (round == 0 && config_.legging.leg_timeout > 0) {
      for (const auto& [id, s] : intents_) {
        for (std::uint64_t oid : s.orders) {
          OrderRecord& r = orders_.at(oid);
          if (!is_terminal(r.status) && r.order.type == OrderType::kLimit &&
              now - r.order.ts > config_.legging.leg_timeout && r.updated < now) {
            broker_.cancel(oid, now);
            r.updated = now;  // one cancel per timeout
          }
        }
      }
    }
    const std::uint64_t sent = counts_.orders;
    for (std::size_t k = 0; k < intent_order_.size(); ++k) {
      auto it = intents_.find(intent_order_[k]);
      if (it != intents_.end() && !it->second.record.done) evaluate(it->second, now);
    }
    if (counts_.orders == sent && reports_.empty()) break;
  }
  // Finished intents leave the working set (their orders stay in history).
  std::erase_if(intent_order_, [&](std::uint64_t id) {
    auto it = intents_.find(id);
    if (it == intents_.end()) return true;
    if (!it->second.record.done) return false;
    for (std::uint64_t oid : it->second.orders) {
      history_.push_back(orders_.at(oid));
      intent_of_.erase(oid);
      orders_.erase(oid);
    }
    intents_.erase(it);
    return true;
  });
  if (kill_.mode() == KillMode::kFlatten) flatten(now);
}

void ExecutionService::on_equity(Timestamp now, double equity) {
  if (risk_.on_equity(now, equity)) {
    // A loss limit moves the trading state; it also pauses entries until an operator re-arms.
    kill(KillMode::kPause, now, "risk", risk_.breach());
  }
}

bool ExecutionService::kill(KillMode mode, Timestamp now, std::string by, std::string reason) {
  if (!kill_.trigger(mode, now, std::move(by), std::move(reason))) return false;
  if (mode == KillMode::kFlatten) {
    cancel_working(now, /*keep_flatten=*/true);
    on_time(now);
  } else if (mode == KillMode::kHalt) {
    cancel_working(now, /*keep_flatten=*/false);
    on_time(now);
  }
  return true;
}

void ExecutionService::rearm(Timestamp now, std::string by, double equity, std::string reason,
                             std::string action) {
  kill_.rearm(now, std::move(by), std::move(reason), std::move(action));
  risk_.rearm(equity);
}

std::vector<std::string> ExecutionService::recover(Timestamp now) {
  std::vector<std::string> problems;
  if (!journal_) return problems;
  const std::vector<OrderRecord> journaled = journal_->orders();
  std::vector<Order> asked;
  for (const OrderRecord& r : journaled) asked.push_back(r.order);
  const BrokerView broker = broker_.view(asked);
  for (const IntentRecord& ir : journal_->intents()) {
    PairPosition& p = pairs_[ir.intent.pair];  // every pair that ever traded: its position
    p.y = ir.intent.y.symbol;
    p.x = ir.intent.x.symbol;
    seen_intents_.insert(ir.intent.id);
    if (ir.done) continue;
    IntentState s;
    s.record = ir;
    s.sent = ir.intent.ts;
    intents_.emplace(ir.intent.id, std::move(s));
    intent_order_.push_back(ir.intent.id);
  }
  std::vector<std::uint64_t> resend;
  for (const OrderRecord& r : journaled) {
    const std::uint64_t id = r.order.client_order_id;
    auto iit = intents_.find(r.intent);
    orders_[id] = r;
    intent_of_[id] = r.intent;
    if (iit != intents_.end()) iit->second.orders.push_back(id);
    book_fill(r, r.filled);  // the books as they stood before the restart
    auto b = broker.orders.find(id);
    if (b != broker.orders.end()) {
      // The broker has it: its record is the truth. Fills it made that the journal missed (the
      // process died in between) are booked now and go out as executions.
      const double missed = b->second.filled - r.filled;
      if (missed > kEps) {
        const double paid =
            b->second.avg_price * b->second.filled - (r.filled > 0 ? r.avg_price * r.filled : 0);
        handle({.kind = ReportKind::kFill,
                .client_order_id = id,
                .ts = now,
                .qty = missed,
                .price = paid / missed,
                .fee = std::max(0.0, b->second.fees - r.fees),
                .done = !b->second.open});
      }
      OrderRecord& live = orders_[id];
      if (!b->second.open && !is_terminal(live.status)) {
        live.status = live.remaining() <= kEps ? OrderStatus::kFilled : OrderStatus::kCancelled;
        journal(live);
      }
    } else if (!is_terminal(r.status)) {
      // Written but never received (the process died before or while sending): sent now, with
      // the same id, so the decision is carried out exactly once.
      resend.push_back(id);
    } else if (r.filled > kEps) {
      problems.push_back(fmt::format(
          "order {} ({} {} {}) has {} filled in the journal, the broker does not know it", id,
          to_string(r.order.side), r.order.qty, symbols_.name(r.order.symbol), r.filled));
    }
    if (iit == intents_.end() && is_terminal(orders_[id].status) &&
        std::find(resend.begin(), resend.end(), id) == resend.end()) {  // over: history
      history_.push_back(orders_[id]);
      orders_.erase(id);
      intent_of_.erase(id);
    }
  }
  for (std::uint64_t id : resend) {
    OrderRecord& r = orders_.at(id);
    r.status = OrderStatus::kNew;
    ++counts_.orders;
    events_.on_order(r.order);
    broker_.send(r.order, now);
    r.status = OrderStatus::kSent;
    journal(r);
  }
  // Positions: the journal's books against the broker's.
  for (const auto& [symbol, qty] : broker.positions) {
    if (std::fabs(position(symbol) - qty) > kEps) {
      problems.push_back(fmt::format("{}: the journal holds {} shares, the broker {}",
                                     symbols_.name(symbol), position(symbol), qty));
    }
  }
  for (SymbolId s = 0; s < positions_.size(); ++s) {
    if (std::fabs(positions_[s]) > kEps && !broker.positions.count(s)) {
      problems.push_back(fmt::format("{}: the journal holds {} shares, the broker none",
                                     symbols_.name(s), positions_[s]));
    }
  }
  blocked_ = !problems.empty();
  return problems;
}

void ExecutionService::acknowledge(Timestamp now, std::string by) {
  blocked_ = false;
  kill_.rearm(now, std::move(by), "reconciliation acknowledged");
}

}  // namespace pairflow::exec
