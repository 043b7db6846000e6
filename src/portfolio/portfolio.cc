#include "portfolio/portfolio.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace pairflow::portfolio {

Result<HedgeMode> parse_hedge_mode(std::string_view text) {
  if (text == "beta") return HedgeMode::kBeta;
  if (text == "dollar_neutral") return HedgeMode::kDollarNeutral;
  return Status(StatusCode::kInvalidArgument,
                fmt::format("hedge must be 'beta' or 'dollar_neutral', got '{}'", text));
}

Portfolio::Portfolio(double initial_capital, const SizingConfig& sizing)
    : initial_capital_(initial_capital), sizing_(sizing), cash_(initial_capital) {}

void Portfolio::ensure(SymbolId symbol) {
  while (positions_.size() <= symbol) {
    Position p;
    p.symbol = static_cast<SymbolId>(positions_.size());
    positions_.push_back(p);
    targets_.push_back(0);
  }
}

PairId Portfolio::add_pair(SymbolId y, SymbolId x) {
  ensure(std::max(y, x));
  pairs_.push_back(PairBook{.y = y, .x = x});
  return static_cast<PairId>(pairs_.size() - 1);
}

void Portfolio::set_pair_leg(PairBook& book, SymbolId symbol, double& leg_qty, double new_qty,
                             const FillPriceFn& fill_price, const FeeFn& fee) {
  const double delta = new_qty - leg_qty;
  if (delta == 0) return;
  targets_[symbol] += delta;
  const double price = fill_price(symbol, delta > 0 ? Side::kBuy : Side::kSell);
  const double f = fee(std::fabs(delta), price);
  book.cash -= delta * price + f;
  book.fees += f;
  leg_qty = new_qty;
}

Status Portfolio::apply_signal(const Signal& signal, double mid_y, double mid_x,
                               const FillPriceFn& fill_price, const FeeFn& fee) {
  if (signal.pair >= pairs_.size())
    return Status(StatusCode::kNotFound, fmt::format("signal for unknown pair {}", signal.pair));
  PairBook& book = pairs_[signal.pair];
  double qty_y = 0, qty_x = 0;
  switch (signal.action) {
    case SignalAction::kHold:
      return Status::ok();
    case SignalAction::kExit:
    case SignalAction::kStop:
      break;
    case SignalAction::kEnterLong:
    case SignalAction::kEnterShort: {
      if (!(mid_y > 0) || !(mid_x > 0) || !std::isfinite(signal.hedge_ratio)) {
        return Status(StatusCode::kInvalidArgument, "entry without usable prices or hedge ratio");
      }
      const double w = sizing_.hedge == HedgeMode::kBeta ? signal.hedge_ratio
                                                         : (signal.hedge_ratio < 0 ? -1.0 : 1.0);
      const double dollars_y = sizing_.capital_per_pair / (1 + std::fabs(w));
      const double direction = signal.action == SignalAction::kEnterLong ? 1.0 : -1.0;
      qty_y = direction * std::floor(dollars_y / mid_y);
      qty_x = -direction * std::round(w * dollars_y / mid_x);
      if (qty_y == 0 || qty_x == 0) {
        // An unhedged single leg is not a pair trade.
        return Status(StatusCode::kInvalidArgument,
                      fmt::format("capital_per_pair {} buys less than one share of a leg",
                                  sizing_.capital_per_pair));
      }
      book.hedge_ratio = signal.hedge_ratio;
      ++book.trades;
      break;
    }
  }
  set_pair_leg(book, book.y, book.qty_y, qty_y, fill_price, fee);
  set_pair_leg(book, book.x, book.qty_x, qty_x, fill_price, fee);
  return Status::ok();
}

void Portfolio::make_orders(Timestamp ts, std::uint64_t& next_client_order_id,
                            std::vector<Order>& out) const {
  for (std::size_t s = 0; s < targets_.size(); ++s) {
    const double delta = targets_[s] - positions_[s].qty;
    if (delta == 0) continue;
    // The pair that caused it, when only one pair trades this symbol.
    PairId cause = kNoPair;
    for (PairId p = 0; p < pairs_.size(); ++p) {
      if (pairs_[p].y == s || pairs_[p].x == s) {
        cause = cause == kNoPair ? p : kNoPair - 1;
      }
    }
    out.push_back(Order{.client_order_id = next_client_order_id++,
                        .ts = ts,
                        .symbol = static_cast<SymbolId>(s),
                        .side = delta > 0 ? Side::kBuy : Side::kSell,
                        .qty = std::fabs(delta),
                        .type = OrderType::kMarket,
                        .pair = cause == kNoPair - 1 ? kNoPair : cause});
  }
}

void Portfolio::on_fill(const Execution& e) {
  if (e.status == ExecStatus::kRejected || !(e.qty > 0)) return;
  ensure(e.symbol);
  Position& p = positions_[e.symbol];
  const double delta = e.side == Side::kBuy ? e.qty : -e.qty;
  if (p.qty == 0 || (p.qty > 0) == (delta > 0)) {
    p.avg_price = (std::fabs(p.qty) * p.avg_price + std::fabs(delta) * e.price) /
                  (std::fabs(p.qty) + std::fabs(delta));
    p.qty += delta;
  } else {
    const double closed = std::min(std::fabs(delta), std::fabs(p.qty));
    p.realized_pnl += closed * (e.price - p.avg_price) * (p.qty > 0 ? 1 : -1);
    const double before = p.qty;
    p.qty += delta;
    if (p.qty == 0) {
      p.avg_price = 0;
    } else if ((before > 0) != (p.qty > 0)) {
      p.avg_price = e.price;  // flipped: the remainder opened at this price
    }
  }
  p.ts = e.ts;
  cash_ -= delta * e.price + e.fee;
  fees_ += e.fee;
  if (!std::isfinite(p.mark)) p.mark = e.price;
  p.unrealized_pnl = p.qty * (p.mark - p.avg_price);
}

void Portfolio::mark(SymbolId symbol, double price) {
  ensure(symbol);
  Position& p = positions_[symbol];
  p.mark = price;
  p.unrealized_pnl = p.qty == 0 ? 0 : p.qty * (price - p.avg_price);
}

PnL Portfolio::pnl(Timestamp ts) const {
  // Summed in value order, not symbol-id order: ids follow the order symbols were first seen,
  // which differs between placements (a job sees ticks in arrival order), and a floating-point
  // sum depends on its order. Sorted, the same holdings give the same bits everywhere.
  held_terms_.clear();
  for (const Position& p : positions_) {
    if (p.qty != 0) held_terms_.push_back(p.qty * p.mark);
  }
  std::sort(held_terms_.begin(), held_terms_.end());
  double held = 0;
  for (double v : held_terms_) held += v;
  PnL out;
  out.ts = ts;
  out.cash = cash_;
  out.equity = cash_ + held;
  out.net_pnl = out.equity - initial_capital_;
  out.fees = fees_;
  out.gross_pnl = out.net_pnl + fees_;
  return out;
}

double Portfolio::pair_net_pnl(PairId pair) const {
  const PairBook& b = pairs_[pair];
  auto value = [&](SymbolId s, double qty) { return qty == 0 ? 0.0 : qty * positions_[s].mark; };
  return b.cash + value(b.y, b.qty_y) + value(b.x, b.qty_x);
}

}  // namespace pairflow::portfolio
