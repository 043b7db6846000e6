// Portfolio: pair signals -> hedged share targets -> netted orders; fills -> positions, cash, P&L.
//
// Sizing: an entry puts `capital_per_pair` of gross dollars into the pair, split between the legs
// in proportion to the hedge weight w (w = the log-price hedge ratio for `hedge = beta`, which
// makes the book neutral to the common move; w = sign of the hedge ratio for `hedge =
// dollar_neutral`). Long spread = long y and -w units of x per unit of y in dollars: with an
// inverse pair (w < 0) both legs have the same side. Shares are whole. Targets of all active pairs
// are netted per symbol, and make_orders() sends only the difference between the net target and the
// position.
//
// Accounting: average-price positions, realised P&L on reductions, cash, fees; equity = cash +
// positions marked at the last mark. Each pair also keeps its own book "as if traded alone" (its
// legs filled at the quoted side, with the same fee model) so P&L can be attributed per pair.
// Single-threaded: owned by the pipeline thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/messages.h"

namespace pairflow::portfolio {

enum class HedgeMode : std::uint8_t { kBeta, kDollarNeutral };
Result<HedgeMode> parse_hedge_mode(std::string_view text);

struct SizingConfig {
  double capital_per_pair = 100'000;
  HedgeMode hedge = HedgeMode::kBeta;
};

struct PairBook {
  SymbolId y = 0, x = 0;
  double hedge_ratio = kNaN;  // at the last entry
  double qty_y = 0, qty_x = 0;
  double cash = 0, fees = 0;
  int trades = 0;  // entries
};

// Price a market order of `side` would get now for `symbol`.
using FillPriceFn = std::function<double(SymbolId, Side)>;
// Fee for a fill of qty at price.
using FeeFn = std::function<double(double, double)>;

class Portfolio {
 public:
  Portfolio(double initial_capital, const SizingConfig& sizing);

  PairId add_pair(SymbolId y, SymbolId x);
  const std::vector<PairBook>& pairs() const { return pairs_; }

  // Applies an entry, exit or stop to the pair's targets; hold does nothing. Sizing uses the mids.
  // An entry is refused (error, targets unchanged) without usable prices or when a leg would get
  // no share.
  Status apply_signal(const Signal& signal, double mid_y, double mid_x,
                      const FillPriceFn& fill_price, const FeeFn& fee);

  // Appends one market order per symbol whose net target differs from its position (symbol order).
  void make_orders(Timestamp ts, std::uint64_t& next_client_order_id,
                   std::vector<Order>& out) const;
  void on_fill(const Execution& execution);
  void mark(SymbolId symbol, double price);

  PnL pnl(Timestamp ts) const;
  double pair_net_pnl(PairId pair) const;
  const std::vector<Position>& positions() const { return positions_; }
  double target(SymbolId symbol) const { return symbol < targets_.size() ? targets_[symbol] : 0; }

 private:
  void ensure(SymbolId symbol);
  void set_pair_leg(PairBook& book, SymbolId symbol, double& leg_qty, double new_qty,
                    const FillPriceFn& fill_price, const FeeFn& fee);

  double initial_capital_;
  SizingConfig sizing_;
  std::vector<PairBook> pairs_;
  std::vector<double> targets_;             // by symbol: sum of pair legs
  std::vector<Position> positions_;         // by symbol
  mutable std::vector<double> held_terms_;  // scratch of pnl()
  double cash_;
  double fees_ = 0;
};

}  // namespace pairflow::portfolio
