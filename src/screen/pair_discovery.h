// Pair discovery over a window of log prices: Engle-Granger on every pair, multiple-testing
// control, half-life filter, ranked selection of the top K.
//
// Every unordered pair of usable symbols is tested in both directions (y on x and x on y, as
// statsmodels' coint is asymmetric) and keeps its more significant direction; the family of tests
// is therefore 2 * pairs, and p-values are adjusted for it (Bonferroni: family-wise error; BH:
// false discovery rate). A candidate passes when its adjusted p-value is <= max_pvalue and the
// half-life of its spread (in bars) lies in [min_half_life, max_half_life], and it is stable: the
// same regression is significant (raw p <= stability_pvalue) in each of `stability_splits`
// consecutive sub-windows, which removes most chance cointegration of random walks that happens to
// hold over the whole window only (a planted or real relation holds in every part). Candidates are
// ranked by adjusted p-value, then statistic, then symbol ids (a total order: deterministic), and
// at most top_k are selected, each symbol in at most max_pairs_per_symbol of them.
//
// This is the foundation's warm-up discovery; the streaming all-pairs screener will replace the
// O(N^2) loop. Pure function of its inputs; runs on the caller's thread.
#pragma once

#include <vector>

#include "base/status.h"
#include "base/symbols.h"
#include "stats/coint.h"

namespace pairflow::screen {

enum class Correction { kNone, kBonferroni, kBenjaminiHochberg };
Result<Correction> parse_correction(std::string_view text);  // "none", "bonferroni", "bh"
const char* correction_name(Correction correction);

struct DiscoveryConfig {
  int top_k = 5;
  double max_pvalue = 0.05;
  Correction correction = Correction::kBonferroni;
  stats::CointOptions coint;   // trend "c", autolag AIC: statsmodels' defaults
  double min_half_life = 1.0;  // bars
  double max_half_life = 0.0;  // bars; 0 = a quarter of the window
  double min_coverage = 0.9;   // share of the window a symbol must have traded in
  int max_pairs_per_symbol = 1;
  int stability_splits = 2;  // 0 or 1 = no stability check
  double stability_pvalue = 0.05;
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
// forward-filled afterwards). Errors only on an unusable configuration.
Result<DiscoveryResult> discover_pairs(const std::vector<std::vector<double>>& log_prices,
                                       const DiscoveryConfig& config);

}  // namespace pairflow::screen
