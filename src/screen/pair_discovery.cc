#include "screen/pair_discovery.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "screen/screener.h"
#include "screen/selection.h"

namespace pairflow::screen {

Result<Correction> parse_correction(std::string_view text) {
  if (text == "none") return Correction::kNone;
  if (text == "bonferroni") return Correction::kBonferroni;
  if (text == "bh" || text == "benjamini-hochberg") return Correction::kBenjaminiHochberg;
  return Status(StatusCode::kInvalidArgument,
                fmt::format("correction must be 'none', 'bonferroni' or 'bh', got '{}'", text));
}

const char* correction_name(Correction correction) {
  switch (correction) {
    case Correction::kNone:
      return "none";
    case Correction::kBonferroni:
      return "bonferroni";
    case Correction::kBenjaminiHochberg:
      return "bh";
  }
  return "?";
}

namespace {

bool ranks_before(const PairCandidate& a, const PairCandidate& b) {
  if (a.adj_pvalue != b.adj_pvalue) return a.adj_pvalue < b.adj_pvalue;
  if (a.stat != b.stat) return a.stat < b.stat;
  if (a.y != b.y) return a.y < b.y;
  return a.x < b.x;
}

void adjust(std::vector<PairCandidate>& candidates, Correction correction, int tests) {
  // Tests not in `candidates` (failed or in the losing direction) count as p = 1.
  std::vector<double> pvalues(candidates.size()), adjusted(candidates.size());
  for (std::size_t i = 0; i < candidates.size(); ++i) pvalues[i] = candidates[i].pvalue;
  adjust_pvalues(pvalues, correction, tests, adjusted);
  for (std::size_t i = 0; i < candidates.size(); ++i) candidates[i].adj_pvalue = adjusted[i];
}

// The candidate's regression is significant in every consecutive sub-window.
bool stable(const std::vector<std::vector<double>>& log_prices,
            const std::vector<std::size_t>& first, const PairCandidate& c,
            const DiscoveryConfig& config, stats::CointWorkspace& workspace) {
  const std::size_t window = log_prices[c.y].size();
  const std::size_t start = std::max(first[c.y], first[c.x]);
  return stable_in_subwindows(std::span(log_prices[c.y]).subspan(start),
                              std::span(log_prices[c.x]).subspan(start), config.stability_splits,
                              config.stability_pvalue, config.coint, workspace);
  (void)window;
}

}  // namespace

Result<DiscoveryResult> discover_pairs(const std::vector<std::vector<double>>& log_prices,
                                       const DiscoveryConfig& config) {
  if (config.top_k < 0) return Status(StatusCode::kInvalidArgument, "top_k must be >= 0");
  if (!(config.max_pvalue > 0 && config.max_pvalue <= 1))
    return Status(StatusCode::kInvalidArgument, "max_pvalue must be in (0, 1]");
  if (config.stability_splits < 0 || !(config.stability_pvalue > 0 && config.stability_pvalue <= 1))
    return Status(StatusCode::kInvalidArgument,
                  "stability_splits must be >= 0 and stability_pvalue in (0, 1]");
  if (config.max_pairs_per_symbol < 1)
    return Status(StatusCode::kInvalidArgument, "max_pairs_per_symbol must be >= 1");

  DiscoveryResult result;
  const std::size_t n_symbols = log_prices.size();
  const std::size_t window = n_symbols ? log_prices[0].size() : 0;
  const double max_half_life = config.max_half_life > 0 ? config.max_half_life : window / 4.0;

  // Usable symbols and the first bar from which each is defined.
  std::vector<SymbolId> usable;
  std::vector<std::size_t> first(n_symbols, window);
  for (std::size_t s = 0; s < n_symbols; ++s) {
    const auto& series = log_prices[s];
    std::size_t f = 0;
    while (f < series.size() && !std::isfinite(series[f])) ++f;
    first[s] = f;
    if (window > 0 && static_cast<double>(window - f) >= config.min_coverage * window) {
      usable.push_back(static_cast<SymbolId>(s));
    }
  }
  result.symbols_used = static_cast<int>(usable.size());

  stats::CointWorkspace workspace;
  std::vector<PairCandidate> best;
  std::vector<double> spread;
  for (std::size_t a = 0; a < usable.size(); ++a) {
    for (std::size_t b = a + 1; b < usable.size(); ++b) {
      const SymbolId i = usable[a], j = usable[b];
      const std::size_t start = std::max(first[i], first[j]);
      std::span<const double> si(log_prices[i].data() + start, window - start);
      std::span<const double> sj(log_prices[j].data() + start, window - start);
      PairCandidate chosen;
      bool have = false;
      for (int direction = 0; direction < 2; ++direction) {
        ++result.tests;
        auto y = direction == 0 ? si : sj, x = direction == 0 ? sj : si;
        auto r = workspace.run(y, x, config.coint);
        if (!r) {
          ++result.failed_tests;
          continue;
        }
        PairCandidate c;
        c.y = direction == 0 ? i : j;
        c.x = direction == 0 ? j : i;
        c.stat = r->stat;
        c.pvalue = r->pvalue;
        c.hedge_ratio = r->hedge_ratio;
        c.intercept = r->intercept;
        c.usedlag = r->usedlag;
        auto residuals = workspace.residuals();
        auto hl = stats::half_life(residuals);
        c.half_life = hl ? *hl : std::numeric_limits<double>::infinity();
        if (!have || c.pvalue < chosen.pvalue ||
            (c.pvalue == chosen.pvalue && c.stat < chosen.stat)) {
          chosen = c;
          have = true;
        }
      }
      if (have) best.push_back(chosen);
    }
  }

  adjust(best, config.correction, result.tests);
  for (const auto& c : best) {
    if (c.adj_pvalue <= config.max_pvalue && c.half_life >= config.min_half_life &&
        c.half_life <= max_half_life && stable(log_prices, first, c, config, workspace)) {
      result.passing.push_back(c);
    }
  }
  std::sort(result.passing.begin(), result.passing.end(), ranks_before);

  result.selected = result.passing;
  std::vector<int> uses;
  keep_per_symbol(result.selected, config.max_pairs_per_symbol,
                  static_cast<std::size_t>(config.top_k), uses);
  return result;
}

}  // namespace pairflow::screen
