// Screener: the streaming all-pairs screener of a universe of N symbols.
//
// Per bar (on_bar) it updates, for every pair at once, the Gram matrices of the window:
//   S = sum r r^T over the last W log returns, G = sum l l^T over the last W + 1 log levels
// (until W + 1 bars have come, every bar so far: the window expands, then rolls)
// plus their column sums. Each bar adds one vector and removes one from each window; the two
// changes are one symmetric rank-2 update (a b^T + b a^T)/2 with a = new - old, b = new + old, and
// `update_block` bars are batched into a single BLAS dsyr2k (rank 2 * block) call; a screen or a
// query flushes what is pending first. Every `rebuild_every` bars the matrices are recomputed
// from the window with dsyrk and the level reference of each symbol is moved to its last level,
// so rounding cannot drift and levels stay small (float64 throughout).
//
// screen() then, for the family of pairs (each symbol with its `neighbours` most correlated
// symbols, by |correlation of log returns| from S; every pair when neighbours = 0):
//  1. |rho| >= min_abs_corr passes (negative counts too);
//  2. a lag-0 Dickey-Fuller pre-screen of the Engle-Granger residual in both directions, computed
//     from S, G, the column sums and the first/last level of the window alone (the lagged-level
//     sums are G minus the last level's outer product; the return x lagged-level cross sums follow
//     from telescoping), equal to statsmodels coint(y, x, maxlag=0, autolag=None);
//  3. full Engle-Granger (stats::coint, statsmodels' defaults) in both directions on survivors;
//     the pair's p-value is the larger of the two (both regressions must reject); the half-life,
//     Hurst exponent and mean crossings of the better direction's spread;
//  4. multiple-testing control over the family (Benjamini-Hochberg by default, or Bonferroni;
//     pairs stopped by steps 1-2 count as p = 1), half-life / Hurst / crossing filters and
//     optional stability (significant in each of `stability_splits` consecutive sub-windows);
//  5. ranking by adjusted p-value, then pair p-value, then score (= -EG statistic), then symbol
//     ids: a total order; optional greedy limit of pairs per symbol.
//
// Lifecycle: construct with the universe size, on_bar() once per bar with every symbol's log
// price (NaN = no price this bar: forward-filled), screen() whenever a ranked list is wanted.
// Single-threaded (BLAS may use its own threads; results do not depend on them beyond rounding
// of the Gram matrices). Memory: two N x N float64 matrices plus the (2W + 1) x N window.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/symbols.h"
#include "screen/selection.h"
#include "stats/coint.h"
#include "stats/hurst.h"

namespace pairflow::screen {

enum class PairTest : std::uint8_t { kBoth, kEither };
Result<PairTest> parse_pair_test(std::string_view text);  // "both", "either"
const char* pair_test_name(PairTest test);
// A pair's p-value from its two directions' Engle-Granger p-values.
double pair_pvalue(PairTest test, double p_yx, double p_xy);

struct ScreenerConfig {
  int window = 390;  // W: log returns in the window (W + 1 levels)
  // A symbol is screened once it has prices over this many levels of the window (0 = over the
  // whole window). With a long window (the engine's max_window) a symbol that starts trading late
  // is then tested from min_window bars on, each of its pairs over the span both legs have.
  int min_window = 0;
  // The family of hypotheses: pairs in which one symbol is among the other's `neighbours` most
  // correlated symbols (|correlation of log returns|); 0 = every pair of the universe. A planted
  // or real y = a + b x + stationary spread has x as its most correlated partner, so the family
  // keeps real pairs while the multiple-testing correction is paid over ~N * neighbours pairs
  // instead of N^2 / 2 (docs/screener.md has the harness figures that chose 3).
  int neighbours = 3;
  // The pair's p-value from its two Engle-Granger directions: kBoth = the larger (both
  // regressions must reject: an intersection-union test, robust to a leg with a stationary
  // component of its own), kEither = twice the smaller (Bonferroni over the two directions: more
  // power when one direction is weak, as with a spread large against the legs' range).
  PairTest pair_test = PairTest::kBoth;
  double min_abs_corr = 0.0;      // |correlation of log returns| to reach the DF pre-screen
  double prescreen_pvalue = 0.1;  // lag-0 DF p-value (better direction) to reach full EG
  Correction correction = Correction::kBenjaminiHochberg;
  double max_pvalue = 0.05;  // adjusted pair p-value: the false-discovery level with BH
  stats::CointOptions coint;
  double min_half_life = 0.0;  // bars
  double max_half_life = 0.0;  // bars; 0 = a quarter of the window
  double max_hurst = 0.5;      // Hurst exponent of the spread (variance method)
  int min_crossings = 10;      // sign changes of the (zero-mean) spread over the window
  // The spread must be more mean-reverting than either leg alone: EG stat <= leg ADF stat - this.
  double min_leg_margin = 0.0;
  int stability_splits = 0;  // 0 or 1 = no stability check
  double stability_pvalue = 0.05;
  // A pair that shares a leg with a better-ranked passing pair is kept only when its other two
  // legs are cointegrated too, as strongly as the family's weakest significant pair (their pair
  // p-value <= ScreenResult::pvalue_cutoff): cointegration is transitive, so y~x and y~x' both
  // real implies x~x'. A leg-sharing decoy (y with a sector mate x' of its true partner x) fails
  // this; a cluster of series sharing one trend (interest rates) passes. The third side is held to
  // the cutoff rather than to max_pvalue because it is one more test of the family, not a test
  // on its own: at max_pvalue a few decoys in a hundred would pass by chance.
  bool consistent_triangles = true;
  int max_pairs_per_symbol = 0;  // greedy by rank; 0 = no limit
  int max_candidates = 0;        // 0 = keep every passing pair
  // Also return every pair of ready symbols in ScreenResult::ranked, with the stage that stopped
  // it (`pairflow screen --rank-all`). Costs a stability test per significant pair.
  bool rank_all = false;
  int update_block = 8;   // bars batched into one dsyr2k
  int rebuild_every = 0;  // bars between exact recomputations; 0 = window
};

// Where a pair left the screen; kSelected = it is in the candidates.
enum class ScreenStage : std::uint8_t {
  kFamily,        // neither symbol is among the other's nearest neighbours: not tested
  kCorrelation,   // |corr| < min_abs_corr
  kPrescreen,     // lag-0 DF above the pre-screen cut in both directions
  kEngleGranger,  // the test could not be computed in either direction (collinear, constant)
  kSignificance,  // adjusted p-value > max_pvalue
  kHalfLife,
  kHurst,
  kCrossings,
  kLegMargin,
  kStability,
  kLegSharing,  // a leg is taken by a better pair
  kLimit,       // past max_candidates
  kSelected,
};
const char* stage_name(ScreenStage stage);

struct ScreenCandidate {
  SymbolId y = 0, x = 0;  // the better Engle-Granger direction: log y = a + b log x + u
  double corr = 0;        // correlation of log returns over the window
  double df_stat = 0;     // lag-0 DF pre-screen statistic of this direction
  double stat = 0, pvalue = 1, adj_pvalue = 1;
  double hedge_ratio = 0, intercept = 0, half_life = 0, hurst = 0;  // of absolute log prices
  int crossings = 0, usedlag = 0;
  double leg_stat = 0;        // the more negative ADF statistic of the legs alone
  double score = 0;           // -stat
  double pvalue_reverse = 1;  // raw Engle-Granger p-value of the other direction (x on y)
  // The pair's p-value: the larger of the two directions' (an intersection-union test: both
  // regressions must reject "no cointegration"); adj_pvalue adjusts it over the family.
  double pair_pvalue = 1;
  double stability_pvalue =
      std::numeric_limits<double>::quiet_NaN();  // largest sub-window p-value (NaN = not computed)
  ScreenStage stage = ScreenStage::kSelected;
};

struct ScreenResult {
  std::vector<ScreenCandidate> candidates;  // passing, ranked
  // rank_all only: every pair of ready symbols, the candidates first (same order), then the rest
  // best first; pairs stopped before Engle-Granger have NaN statistics.
  std::vector<ScreenCandidate> ranked;
  std::int64_t symbols_ready = 0;  // symbols with a full window
  std::int64_t pairs = 0;          // pairs of ready symbols
  std::int64_t tests = 0;          // pairs in the family: the multiple-testing family
  std::int64_t corr_passed = 0, prescreen_passed = 0, eg_failed = 0, significant = 0;
  std::int64_t filtered_passed = 0;  // significant and through the spread filters
  // The largest raw pair p-value the correction accepted (0 when none): the level a pair's
  // third side must reach (consistent_triangles).
  double pvalue_cutoff = 0;
};

class Screener {
 public:
  // Checks the configuration (PAIRFLOW_CHECK); use validate() first on user input.
  Screener(int num_symbols, const ScreenerConfig& config);
  static Status validate(const ScreenerConfig& config);

  // One bar: log_prices[s] for every symbol s (NaN = unchanged). No allocation.
  void on_bar(std::span<const double> log_prices);
  // Ranks the pairs that pass (fills `out`, reusing its storage).
  void screen(ScreenResult& out);
  ScreenResult screen() {
    ScreenResult r;
    screen(r);
    return r;
  }

  int num_symbols() const { return n_; }
  int window() const { return w_; }  // the longest window (returns)
  // The window now: every bar so far until W + 1 levels are in it (an expanding window), then
  // the last W + 1 (rolling). Screens before the window is full use the bars there are.
  int levels_now() const { return static_cast<int>(std::min<std::int64_t>(bars_, w_ + 1)); }
  int returns_now() const { return std::max(0, levels_now() - 1); }
  std::int64_t bars() const { return bars_; }
  // The symbol has prices over the whole current window, or over min_window levels of it (and the
  // window holds 3+ levels).
  bool symbol_ready(SymbolId s) const {
    const int need = config_.min_window > 0 ? config_.min_window : w_ + 1;
    return levels_now() >= 3 && seen_[s] >= std::min(levels_now(), need);
  }
  // Levels of the window since the symbol's first price.
  int span(SymbolId s) const {
    return static_cast<int>(std::min<std::int64_t>(seen_[s], levels_now()));
  }
  // Correlation of log returns of symbols i and j over the window (flushes pending updates).
  double correlation(SymbolId i, SymbolId j);
  // The window's log levels of one symbol, oldest first (levels_now() values, relative to a
  // reference: differences are exact, the absolute level is not).
  void window_levels(SymbolId s, std::vector<double>& out) const;
  // Applies pending rank-2 updates now.
  void flush();

 private:
  void rebuild();
  double lag0_df(int y, int x, double b, double a) const;
  // Both symbols' levels over the span they share (the window, unless one started later).
  void pair_levels(SymbolId a, SymbolId b, std::vector<double>& ya, std::vector<double>& yb) const;

  ScreenerConfig config_;
  int n_, w_, rebuild_every_;
  double df_threshold_;             // lag-0 DF statistics <= this pass the pre-screen
  std::vector<double> ref_, last_;  // per symbol: level reference, last absolute log price
  std::vector<std::int64_t> seen_;  // bars since the first price (capped)
  std::vector<double> levels_;      // (W + 1) x N ring of levels relative to ref_
  std::vector<double> rets_;        // W x N ring of log returns
  int lhead_ = 0, rhead_ = 0;       // next row to overwrite (= the oldest, or an empty one)
  int oldest_level_row() const { return (lhead_ + w_ + 1 - levels_now()) % (w_ + 1); }
  std::vector<double> s_, g_;  // N x N row-major, upper triangle valid
  std::vector<double> rsum_, lsum_;
  std::vector<double> pa_, pb_, pc_, pd_;  // pending update vectors, block x N each
  int pending_ = 0;
  std::int64_t bars_ = 0, since_rebuild_ = 0;
  // screen() scratch
  std::vector<double> corr_row_, ya_, xa_;
  std::vector<int> js_, uses_;
  std::vector<std::vector<int>> partners_;  // family partners j > i of each symbol i
  std::vector<double> leg_stat_, ys_scratch_;
  stats::CointWorkspace coint_;
  stats::AdfWorkspace adf_;
};

// Benjamini-Hochberg or Bonferroni adjustment of `pvalues` within a family of `family` tests
// (tests not listed count as p = 1). Writes adjusted values to `adjusted`.
void adjust_pvalues(std::span<const double> pvalues, Correction correction, double family,
                    std::span<double> adjusted);

}  // namespace pairflow::screen
