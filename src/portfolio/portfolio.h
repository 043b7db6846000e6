// Portfolio: sizing of pair entries, and the books: fills -> positions, cash, P&L.
//
// Sizing (size_entry): an entry puts `capital_per_pair` of gross dollars into the pair, split
// between the legs in proportion to the hedge weight w (w = the log-price hedge ratio for `hedge =
// beta`, which makes the book neutral to the common move; w = sign of the hedge ratio for `hedge =
// dollar_neutral`). Long spread = long y and -w units of x per unit of y in dollars: with an
// inverse pair (w < 0) both legs have the same side. Shares are whole. The result is the pair's
// target position; the execution service trades the difference from what the pair holds.
//
// Accounting: average-price positions, realised P&L on reductions, cash, fees; equity = cash +
// positions marked at the last mark. Fills tagged with a pair also go to that pair's own book
// (its legs' shares, cash and fees), so P&L is attributed per pair from real fills.
// Single-threaded: owned by the execution stage's thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
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

// The pair's target shares (y, x) for an entry signal at these mids. An error (nothing to trade)
// without usable prices or hedge ratio, or when a leg would get no share.
Result<std::pair<double, double>> size_entry(const SizingConfig& sizing, const Signal& signal,
                                             double mid_y, double mid_x);

class Portfolio {
 public:
  explicit Portfolio(double initial_capital);

  // Registers (or re-registers) a pair's legs; fills tagged with it go to its book.
  void set_pair(PairId pair, SymbolId y, SymbolId x);
  const std::vector<PairBook>& pairs() const { return pairs_; }
  // An entry of the pair was sent (for the trade count and the hedge ratio of reports).
  void note_entry(PairId pair, double hedge_ratio);

  void on_fill(const Execution& execution);
  void mark(SymbolId symbol, double price);

  PnL pnl(Timestamp ts) const;
  double pair_net_pnl(PairId pair) const;
  const std::vector<Position>& positions() const { return positions_; }

 private:
  void ensure(SymbolId symbol);

  double initial_capital_;
  std::vector<PairBook> pairs_;             // by pair id
  std::vector<Position> positions_;         // by symbol
  mutable std::vector<double> held_terms_;  // scratch of pnl()
  double cash_;
  double fees_ = 0;
};

}  // namespace pairflow::portfolio
