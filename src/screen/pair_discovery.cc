#include "screen/pair_discovery.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "screen/selection.h"

namespace pairflow::screen {

ScreenerConfig DiscoveryConfig::selection(ScreenerConfig base) const {
  base.correction = correction;
  base.max_pvalue = max_pvalue;
  base.coint = coint;
  base.min_half_life = min_half_life;
  base.max_half_life = max_half_life;
  base.stability_splits = stability_splits;
  base.stability_pvalue = stability_pvalue;
  return base;
}

Result<DiscoveryResult> discover_pairs(const std::vector<std::vector<double>>& log_prices,
                                       const DiscoveryConfig& config,
                                       const ScreenerConfig& screen) {
  if (config.top_k < 0) return Status(StatusCode::kInvalidArgument, "top_k must be >= 0");
  if (config.max_pairs_per_symbol < 1)
    return Status(StatusCode::kInvalidArgument, "max_pairs_per_symbol must be >= 1");
  if (!(config.min_coverage > 0 && config.min_coverage <= 1))
    return Status(StatusCode::kInvalidArgument, "min_coverage must be in (0, 1]");

  DiscoveryResult result;
  const std::size_t n_symbols = log_prices.size();
  const std::size_t bars = n_symbols ? log_prices[0].size() : 0;
  ScreenerConfig sc = config.selection(screen);
  sc.window = static_cast<int>(bars) - 1;
  sc.max_pairs_per_symbol = 0;
  sc.max_candidates = 0;
  sc.rank_all = false;
  sc.update_block = 64;
  sc.rebuild_every = 1 << 30;  // one pass: the window is rebuilt only at the end
  if (bars < 21) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("discovery needs a window of at least 21 bars, got {}", bars));
  }
  if (auto s = Screener::validate(sc); !s) return s;

  // Usable symbols: enough coverage; their first price is carried back to the window's start.
  std::vector<char> usable(n_symbols, 0);
  std::vector<std::size_t> first(n_symbols, bars);
  for (std::size_t s = 0; s < n_symbols; ++s) {
    const auto& series = log_prices[s];
    std::size_t f = 0;
    while (f < series.size() && !std::isfinite(series[f])) ++f;
    first[s] = f;
    if (static_cast<double>(bars - f) >= config.min_coverage * static_cast<double>(bars)) {
      usable[s] = 1;
      ++result.symbols_used;
    }
  }
  Screener screener(static_cast<int>(n_symbols), sc);
  std::vector<double> row(n_symbols);
  for (std::size_t t = 0; t < bars; ++t) {
    for (std::size_t s = 0; s < n_symbols; ++s) {
      if (!usable[s]) {
        row[s] = std::numeric_limits<double>::quiet_NaN();
      } else {
        row[s] = log_prices[s][std::max(t, first[s])];
      }
    }
    screener.on_bar(row);
  }
  ScreenResult screened = screener.screen();
  result.tests = static_cast<int>(screened.tests);
  result.failed_tests = static_cast<int>(screened.eg_failed);
  for (const auto& c : screened.candidates) {
    PairCandidate p;
    p.y = c.y;
    p.x = c.x;
    p.stat = c.stat;
    p.pvalue = c.pair_pvalue;
    p.adj_pvalue = c.adj_pvalue;
    p.hedge_ratio = c.hedge_ratio;
    p.intercept = c.intercept;
    p.half_life = c.half_life;
    p.usedlag = c.usedlag;
    result.passing.push_back(p);
  }
  result.selected = result.passing;
  std::vector<int> uses;
  keep_per_symbol(result.selected, config.max_pairs_per_symbol,
                  static_cast<std::size_t>(config.top_k), uses);
  return result;
}

}  // namespace pairflow::screen
