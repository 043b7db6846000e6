#include "exec/risk.h"

#include <fmt/format.h>

#include <cmath>

namespace pairflow::exec {

const char* to_string(TradingState state) {
  switch (state) {
    case TradingState::kActive:
      return "active";
    case TradingState::kReduceOnly:
      return "reduce_only";
    case TradingState::kHalted:
      return "halted";
  }
  return "?";
}

const char* denial_name(Denial d) {
  switch (d) {
    case Denial::kNone:
      return "none";
    case Denial::kInvalidOrder:
      return "invalid_order";
    case Denial::kNoMarketData:
      return "no_market_data";
    case Denial::kStaleQuote:
      return "stale_quote";
    case Denial::kOrderQty:
      return "max_order_qty";
    case Denial::kOrderNotional:
      return "max_order_notional";
    case Denial::kPositionLimit:
      return "max_position";
    case Denial::kGrossExposure:
      return "max_gross_exposure";
    case Denial::kNetExposure:
      return "max_net_exposure";
    case Denial::kPairCapital:
      return "max_pair_capital";
    case Denial::kPriceCollar:
      return "price_collar";
    case Denial::kOrderRate:
      return "order_rate";
    case Denial::kDuplicate:
      return "duplicate_order";
    case Denial::kReduceOnly:
      return "reduce_only";
    case Denial::kHalted:
      return "halted";
    case Denial::kKillSwitch:
      return "kill_switch";
    case Denial::kUnhedged:
      return "max_unhedged_notional";
    case Denial::kCount:
      break;
  }
  return "?";
}

Denial RiskEngine::check(const Order& order, bool adds_risk, const RiskView& v) {
  const Denial d = evaluate(order, adds_risk, v);
  if (d != Denial::kNone) {
    count(d);
    return d;
  }
  record(order, v.now);
  return Denial::kNone;
}

void RiskEngine::record(const Order& order, Timestamp now) {
  const RiskLimits& l = limits_;
  if (l.max_orders_per_second > 0) {
    while (!recent_.empty() && recent_.front() <= now - kNanosPerSecond) recent_.pop_front();
    recent_.push_back(now);
  }
  if (l.duplicate_window > 0) {
    while (!recent_orders_.empty() && recent_orders_.front().ts <= now - l.duplicate_window)
      recent_orders_.pop_front();
    recent_orders_.push_back({now, order.symbol, order.side, order.qty});
  }
  ids_.insert(order.client_order_id);
}

Denial RiskEngine::evaluate(const Order& order, bool adds_risk, const RiskView& v,
                            int pending) const {
  const RiskLimits& l = limits_;
  if (!(order.qty > 0) || !std::isfinite(order.qty)) return Denial::kInvalidOrder;
  if (state_ == TradingState::kHalted) return Denial::kHalted;
  if (state_ == TradingState::kReduceOnly && adds_risk) return Denial::kReduceOnly;
  if (ids_.count(order.client_order_id)) return Denial::kDuplicate;
  const bool quoted = std::isfinite(v.bid) && std::isfinite(v.ask);
  const double mid = quoted ? 0.5 * (v.bid + v.ask) : v.last;
  if (!std::isfinite(mid) || !(mid > 0)) return Denial::kNoMarketData;
  if (adds_risk && l.max_quote_age > 0 && v.now - v.quote_ts > l.max_quote_age)
    return Denial::kStaleQuote;
  const double price = order.type == OrderType::kLimit ? order.limit : mid;
  if (order.type == OrderType::kLimit) {
    if (!std::isfinite(order.limit) || !(order.limit > 0)) return Denial::kInvalidOrder;
    if (l.price_collar_bps > 0 && std::fabs(order.limit - mid) / mid * 1e4 > l.price_collar_bps)
      return Denial::kPriceCollar;
  }
  if (l.max_order_qty > 0 && order.qty > l.max_order_qty) return Denial::kOrderQty;
  const double notional = order.qty * price;
  if (l.max_order_notional > 0 && notional > l.max_order_notional) return Denial::kOrderNotional;
  const double signed_qty = order.side == Side::kBuy ? order.qty : -order.qty;
  const double after = v.position + signed_qty;
  if (adds_risk) {
    if (l.max_position_qty > 0 && std::fabs(after) > l.max_position_qty &&
        std::fabs(after) > std::fabs(v.position))
      return Denial::kPositionLimit;
    if (l.max_position_notional > 0 && std::fabs(after) * price > l.max_position_notional &&
        std::fabs(after) > std::fabs(v.position))
      return Denial::kPositionLimit;
    const double gross_after =
        v.gross_exposure - std::fabs(v.position) * price + std::fabs(after) * price;
    if (l.max_gross_exposure > 0 && gross_after > l.max_gross_exposure &&
        gross_after > v.gross_exposure)
      return Denial::kGrossExposure;
    const double net_after = v.net_exposure + signed_qty * price;
    if (l.max_net_exposure > 0 && std::fabs(net_after) > l.max_net_exposure &&
        std::fabs(net_after) > std::fabs(v.net_exposure))
      return Denial::kNetExposure;
  }
  if (l.max_orders_per_second > 0) {
    int in_window = pending;
    for (Timestamp t : recent_) in_window += t > v.now - kNanosPerSecond;
    if (in_window + 1 > l.max_orders_per_second) return Denial::kOrderRate;
  }
  if (l.duplicate_window > 0) {
    for (const Recent& r : recent_orders_) {
      if (r.ts > v.now - l.duplicate_window && r.symbol == order.symbol && r.side == order.side &&
          r.qty == order.qty)
        return Denial::kDuplicate;
    }
  }
  return Denial::kNone;
}

Denial RiskEngine::check_intent(double gross_notional) const {
  if (limits_.max_pair_capital > 0 && gross_notional > limits_.max_pair_capital)
    return Denial::kPairCapital;
  return Denial::kNone;
}

bool RiskEngine::on_equity(Timestamp ts, double equity) {
  const std::int64_t day = ts >= 0 ? ts / kNanosPerDay : (ts - kNanosPerDay + 1) / kNanosPerDay;
  if (!have_equity_) {
    have_equity_ = true;
    peak_ = day_start_equity_ = equity;
    day_ = day;
  }
  if (day != day_) {
    day_ = day;
    day_start_equity_ = equity;
  }
  peak_ = std::max(peak_, equity);
  if (state_ != TradingState::kActive && state_ >= limits_.on_breach) return false;
  std::string why;
  if (limits_.daily_loss_limit > 0 && day_start_equity_ - equity > limits_.daily_loss_limit) {
    why = fmt::format("daily loss {:.2f} is over the limit {:.2f}", day_start_equity_ - equity,
                      limits_.daily_loss_limit);
  } else if (limits_.max_drawdown > 0 && peak_ - equity > limits_.max_drawdown) {
    why = fmt::format("drawdown {:.2f} is over the limit {:.2f}", peak_ - equity,
                      limits_.max_drawdown);
  }
  if (why.empty()) return false;
  breach_ = std::move(why);
  state_ = limits_.on_breach;
  return true;
}

void RiskEngine::rearm(double equity) {
  state_ = TradingState::kActive;
  peak_ = day_start_equity_ = equity;
  breach_.clear();
}

std::uint64_t RiskEngine::denials_total() const {
  std::uint64_t n = 0;
  for (int i = 1; i < static_cast<int>(Denial::kCount); ++i) n += counts_[i];
  return n;
}

}  // namespace pairflow::exec
