// Pair discovery over a window of log prices, once: the warm-up method. It runs the streaming
// screener (screener.h) over the window and takes its ranking, so both methods select the same
// way: the nearest-neighbour family, the intersection-union pair p-value (both Engle-Granger
// directions must reject), the multiple-testing correction over the family, the spread filters.
// Symbols that traded in at least `min_coverage` of the window take part (their first price is
// carried back to the window's start). `selected` is the top_k of the ranking with each symbol in
// at most max_pairs_per_symbol of them; `passing` is the whole ranked list.
//
// Pure function of its inputs; runs on the caller's thread.
#pragma once

#include <vector>

#include "base/status.h"
#include "base/symbols.h"
#include "screen/screener.h"
#include "stats/coint.h"

namespace pairflow::screen {

struct DiscoveryConfig {
  int top_k = 5;
  double max_pvalue = 0.05;  // adjusted pair p-value: the false-discovery level with BH
  Correction correction = Correction::kBenjaminiHochberg;
  stats::CointOptions coint;     // trend "c", autolag AIC: statsmodels' defaults
  double min_half_life = 0.0;    // bars
  double max_half_life = 0.0;    // bars; 0 = a quarter of the window
  double min_coverage = 0.9;     // share of the window a symbol must have traded in
  int max_pairs_per_symbol = 1;  // in `selected` (trading capacity); `passing` has no limit
  int stability_splits = 0;      // 0 or 1 = no stability check
  double stability_pvalue = 0.05;

  // The screener configuration that selects as this discovery does: `base` with this section's
  // fields laid over it (the [screener] section supplies the rest).
  ScreenerConfig selection(ScreenerConfig base) const;
};

struct PairCandidate {
  SymbolId y = 0, x = 0;
  double stat = 0, pvalue = 1, adj_pvalue = 1;
  double hedge_ratio = 0, intercept = 0, half_life = 0;
  int usedlag = 0;
};

struct DiscoveryResult {
  std::vector<PairCandidate> selected;  // ranked, at most top_k
  std::vector<PairCandidate> passing;   // every candidate that passed the filters, ranked
  int symbols_used = 0;
  int tests = 0;
  int failed_tests = 0;  // tests that could not be computed (e.g. collinear): counted, skipped
};

// log_prices[s] is symbol s's log price per bar over the window (NaN before its first trade;
// forward-filled afterwards). `screen` supplies the screener settings the discovery section does
// not have (family, pre-screen, spread filters). Errors only on an unusable configuration.
Result<DiscoveryResult> discover_pairs(const std::vector<std::vector<double>>& log_prices,
                                       const DiscoveryConfig& config,
                                       const ScreenerConfig& screen = ScreenerConfig{});

}  // namespace pairflow::screen
