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

Portfolio::Portfolio(double initial_capital)
    : initial_capital_(initial_capital), cash_(initial_capital) {}

void Portfolio::ensure(SymbolId symbol) {
  while (positions_.size() <= symbol) {
    Position p;
    p.symbol = static_cast<SymbolId>(positions_.size());
    positions_.push_back(p);
  }
}

void Portfolio::set_pair(PairId pair, SymbolId y, SymbolId x) {
  ensure(std::max(y, x));
  if (pairs_.size() <= pair) pairs_.resize(static_cast<std::size_t>(pair) + 1);
  pairs_[pair].y = y;
  pairs_[pair].x = x;
}

void Portfolio::note_entry(PairId pair, double hedge_ratio) {
  if (pair >= pairs_.size()) return;
  pairs_[pair].hedge_ratio = hedge_ratio;
  ++pairs_[pair].trades;
}

Result<std::pair<double, double>> size_entry(const SizingConfig& sizing, const Signal& signal,
                                             double mid_y, double mid_x) {
  if (signal.action != SignalAction::kEnterLong && signal.action != SignalAction::kEnterShort)
    return std::pair{0.0, 0.0};
  if (!(mid_y > 0) || !(mid_x > 0) || !std::isfinite(signal.hedge_ratio)) {
    return Status(StatusCode::kInvalidArgument, "entry without usable prices or hedge ratio");
  }
  const double w =
      sizing.hedge == HedgeMode::kBeta ? signal.hedge_ratio : (signal.hedge_ratio < 0 ? -1.0 : 1.0);
  const double dollars_y = sizing.capital_per_pair / (1 + std::fabs(w));
  const double direction = signal.action == SignalAction::kEnterLong ? 1.0 : -1.0;
  const double qty_y = direction * std::floor(dollars_y / mid_y);
  const double qty_x = -direction * std::round(w * dollars_y / mid_x);
  if (qty_y == 0 || qty_x == 0) {
    // An unhedged single leg is not a pair trade.
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("capital_per_pair {} buys less than one share of a leg",
                              sizing.capital_per_pair));
  }
  return std::pair{qty_y, qty_x};
}

void Portfolio::on_fill(const Execution& e) {
  const bool fill = e.status == ExecStatus::kFilled || e.status == ExecStatus::kPartiallyFilled;
  if (!fill || !(e.qty > 0)) {
    if (!(e.fee > 0)) return;
    fees_ += e.fee;  // a minimum fee charged when an order ends
    cash_ -= e.fee;
    if (e.pair < pairs_.size()) {
      pairs_[e.pair].cash -= e.fee;
      pairs_[e.pair].fees += e.fee;
    }
    return;
  }
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
  if (e.pair < pairs_.size()) {
    PairBook& b = pairs_[e.pair];
    if (e.symbol == b.y) b.qty_y += delta;
    if (e.symbol == b.x) b.qty_x += delta;
    b.cash -= delta * e.price + e.fee;
    b.fees += e.fee;
  }
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
  if (pair >= pairs_.size()) return 0;
  const PairBook& b = pairs_[pair];
  auto value = [&](SymbolId s, double qty) { return qty == 0 ? 0.0 : qty * positions_[s].mark; };
  return b.cash + value(b.y, b.qty_y) + value(b.x, b.qty_x);
}

}  // namespace pairflow::portfolio
