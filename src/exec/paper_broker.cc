#include "exec/paper_broker.h"

#include <algorithm>
#include <cmath>

namespace pairflow::exec {

const char* to_string(ReportKind kind) {
  switch (kind) {
    case ReportKind::kAck:
      return "ack";
    case ReportKind::kFill:
      return "fill";
    case ReportKind::kReject:
      return "reject";
    case ReportKind::kCancelled:
      return "cancelled";
    case ReportKind::kExpired:
      return "expired";
    case ReportKind::kCancelReject:
      return "cancel_reject";
  }
  return "?";
}

PaperBroker::PaperBroker(const PaperConfig& config) : config_(config), rng_(config.seed) {}

void PaperBroker::on_tick(const Tick& tick) {
  advance(tick.ts);  // what arrived before this tick met the market as it stood
  market_.on_tick(tick);
  if (tick.has_quote() && tick.symbol < taken_.size()) taken_[tick.symbol] = {0, 0};  // refreshed
  if (!resting_.empty()) check_resting(tick);
}

Timestamp PaperBroker::arrival_time(Timestamp now) {
  Timestamp at = now + config_.latency;
  if (config_.latency_jitter > 0)
    at += static_cast<Timestamp>(rng_.next_u64() %
                                 static_cast<std::uint64_t>(config_.latency_jitter));
  return at;
}

void PaperBroker::send(const Order& order, Timestamp now) {
  travelling_.push({arrival_time(now), seq_++, false, order});
}

void PaperBroker::cancel(std::uint64_t client_order_id, Timestamp now) {
  Order o;
  o.client_order_id = client_order_id;
  travelling_.push({arrival_time(now), seq_++, true, o});
}

void PaperBroker::advance(Timestamp now) {
  while (!travelling_.empty() && travelling_.top().at <= now) {
    const Arrival a = travelling_.top();
    travelling_.pop();
    arrive(a);
  }
}

void PaperBroker::finish() {
  while (!travelling_.empty()) {
    const Arrival a = travelling_.top();
    travelling_.pop();
    arrive(a);
  }
}

void PaperBroker::arrive(const Arrival& a) {
  const std::uint64_t id = a.order.client_order_id;
  if (a.cancel) {
    auto it = working_.find(id);
    if (it == working_.end()) {
      reports_.push_back({.kind = ReportKind::kCancelReject,
                          .client_order_id = id,
                          .ts = a.at,
                          .reason = orders_.count(id) ? "too_late" : "unknown_order"});
      return;
    }
    end(it->second, a.at, ReportKind::kCancelled, "cancelled");
    return;
  }
  ++received_;
  const Order& o = a.order;
  auto [slot, inserted] = orders_.try_emplace(id);
  if (!inserted) {  // a resend of an order it already has: never executed twice
    ++duplicates_;
    reports_.push_back({.kind = ReportKind::kReject,
                        .client_order_id = id,
                        .ts = a.at,
                        .done = false,
                        .reason = "duplicate_client_order_id"});
    return;
  }
  BrokerOrder& b = slot->second;
  b.client_order_id = id;
  b.symbol = o.symbol;
  b.side = o.side;
  b.qty = o.qty;
  b.open = true;
  if (!(o.qty > 0) || !std::isfinite(o.qty) || (o.type == OrderType::kLimit && !(o.limit > 0))) {
    b.open = false;
    reports_.push_back({.kind = ReportKind::kReject,
                        .client_order_id = id,
                        .ts = a.at,
                        .done = true,
                        .reason = "invalid_order"});
    return;
  }
  Working& w = working_[id];
  w.order = o;
  if (!std::isfinite(fill_price(o.symbol, o.side))) {
    end(w, a.at, ReportKind::kReject, "no_market_data");
    return;
  }
  reports_.push_back({.kind = ReportKind::kAck, .client_order_id = id, .ts = a.at});
  take(w, a.at, o.type == OrderType::kLimit ? o.limit : kNaN);
  auto it = working_.find(id);
  if (it == working_.end()) return;  // filled or expired
  if (o.type == OrderType::kMarket) {
    end(it->second, a.at, ReportKind::kExpired, "no_more_liquidity");
  } else {
    it->second.resting = true;
    resting_.push_back(id);
  }
}

void PaperBroker::take(Working& w, Timestamp at, double limit) {
  const Order& o = w.order;
  const SymbolId s = o.symbol;
  const bool buy = o.side == Side::kBuy;
  const double touch = fill_price(s, o.side);
  if (!std::isfinite(touch)) return;
  const double shown = buy ? market_.ask_size(s) : market_.bid_size(s);
  const bool sized = std::isfinite(shown) && shown > 0;
  if (!sized) {  // no displayed size in the data: the whole order at the touch
    const double price = touch * (1 + (buy ? config_.slippage_bps : -config_.slippage_bps) / 1e4);
    if (std::isfinite(limit) && (buy ? price > limit : price < limit)) return;
    fill(w, at, o.qty - w.filled, price, true);
    return;
  }
  // The book: `depth_levels` levels of the displayed size each, the touch first. What earlier
  // orders took since the last quote is gone until the next one.
  if (taken_.size() <= s) taken_.resize(s + 1, {0, 0});
  double& taken = buy ? taken_[s].second : taken_[s].first;
  const int levels = std::max(1, config_.depth_levels);
  while (true) {
    const double left = o.qty - w.filled;
    if (left <= 0) return;
    const int level = static_cast<int>(taken / shown);
    if (level >= levels) return;
    const double bps = config_.slippage_bps + level * config_.level_step_bps;
    const double price = touch * (1 + (buy ? bps : -bps) / 1e4);
    if (std::isfinite(limit) && (buy ? price > limit : price < limit)) return;
    const double available = (level + 1) * shown - taken;
    const double qty = std::min(left, available);
    taken += qty;
    const bool last = qty >= left;
    fill(w, at, qty, price, last);
    if (last) return;  // fill() ended the order: `w` is gone
  }
}

void PaperBroker::fill(Working& w, Timestamp at, double qty, double price, bool last) {
  w.filled += qty;
  w.notional += qty * price;
  double fee = config_.fees.fee(qty, price);
  if (last && w.fees + fee < config_.fees.min_per_order) fee = config_.fees.min_per_order - w.fees;
  w.fees += fee;
  const std::uint64_t id = w.order.client_order_id;
  BrokerOrder& b = orders_[id];
  b.filled = w.filled;
  b.avg_price = w.notional / w.filled;
  b.fees = w.fees;
  positions_[w.order.symbol] += w.order.side == Side::kBuy ? qty : -qty;
  reports_.push_back({.kind = ReportKind::kFill,
                      .client_order_id = id,
                      .ts = at,
                      .qty = qty,
                      .price = price,
                      .fee = fee,
                      .done = last});
  if (last) {
    b.open = false;
    if (w.resting) std::erase(resting_, id);
    working_.erase(id);
  }
}

void PaperBroker::end(Working& w, Timestamp at, ReportKind kind, std::string reason) {
  const std::uint64_t id = w.order.client_order_id;
  // The minimum fee of an order that filled partly is charged when it ends.
  double fee = 0;
  if (w.filled > 0 && w.fees < config_.fees.min_per_order)
    fee = config_.fees.min_per_order - w.fees;
  BrokerOrder& b = orders_[id];
  b.open = false;
  b.fees += fee;
  reports_.push_back({.kind = kind,
                      .client_order_id = id,
                      .ts = at,
                      .fee = fee,
                      .done = true,
                      .reason = std::move(reason)});
  if (w.resting) std::erase(resting_, id);
  working_.erase(id);
}

void PaperBroker::check_resting(const Tick& tick) {
  const SymbolId s = tick.symbol;
  const auto ids = resting_;  // fills erase from resting_
  for (std::uint64_t id : ids) {
    auto it = working_.find(id);
    if (it == working_.end()) continue;
    Working& w = it->second;
    if (w.order.symbol != s) continue;
    const bool buy = w.order.side == Side::kBuy;
    const double limit = w.order.limit;
    const double left = w.order.qty - w.filled;
    double qty = 0;
    // A trade strictly through the limit: at most the trade's size (all of it when unknown).
    if (std::isfinite(tick.price) && (buy ? tick.price < limit : tick.price > limit))
      qty = tick.size > 0 ? std::min(left, tick.size) : left;
    // The opposite quote strictly through the limit: at most its displayed size.
    const double opposite = buy ? market_.ask(s) : market_.bid(s);
    const double shown = buy ? market_.ask_size(s) : market_.bid_size(s);
    if (qty < left && std::isfinite(opposite) && (buy ? opposite < limit : opposite > limit)) {
      const double more = std::isfinite(shown) && shown > 0 ? shown : left;
      qty = std::min(left, qty + more);
    }
    if (qty > 0) fill(w, tick.ts, qty, limit, qty >= left);
  }
}

void PaperBroker::poll(std::vector<BrokerReport>& out) {
  out.insert(out.end(), std::make_move_iterator(reports_.begin()),
             std::make_move_iterator(reports_.end()));
  reports_.clear();
}

BrokerView PaperBroker::view(const std::vector<Order>&) {
  BrokerView view;
  view.orders.insert(orders_.begin(), orders_.end());
  view.positions = positions_;
  return view;
}

void PaperBroker::restore(const std::vector<OrderRecord>& journal) {
  for (const OrderRecord& r : journal) {
    if (!is_terminal(r.status) && !(r.filled > 0)) continue;  // never reached the broker
    BrokerOrder& b = orders_[r.order.client_order_id];
    b.client_order_id = r.order.client_order_id;
    b.symbol = r.order.symbol;
    b.side = r.order.side;
    b.qty = r.order.qty;
    b.filled = r.filled;
    b.avg_price = r.avg_price;
    b.fees = r.fees;
    b.open = false;  // what worked at the crash ended with the process
    if (r.filled > 0)
      positions_[r.order.symbol] += r.order.side == Side::kBuy ? r.filled : -r.filled;
  }
}

}  // namespace pairflow::exec
