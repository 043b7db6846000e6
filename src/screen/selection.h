// The selection steps the one-shot discovery (pair_discovery.h) and the streaming screener
// (screener.h) share, so both choose pairs the same way: the stability test in sub-windows, and
// the greedy one-pair-per-symbol pass over a ranking. Pure functions over the caller's workspace;
// any thread.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "base/status.h"
#include "stats/coint.h"

namespace pairflow::screen {

// Multiple-testing correction over a family of tests.
enum class Correction { kNone, kBonferroni, kBenjaminiHochberg };
Result<Correction> parse_correction(std::string_view text);  // "none", "bonferroni", "bh"
const char* correction_name(Correction correction);

// The largest Engle-Granger p-value of y ~ x over `splits` consecutive equal sub-windows (1 when
// a sub-window's test cannot be computed; 0 for splits <= 1).
double max_subwindow_pvalue(std::span<const double> y, std::span<const double> x, int splits,
                            const stats::CointOptions& options, stats::CointWorkspace& workspace);

// Greedy by rank: walks `ranked` best first and keeps a candidate while neither of its legs is in
// `max_per_symbol` kept pairs already (0 = no limit), up to `limit` kept (0 = no limit). A
// symbol's best relation wins: a leg with a large stationary component of its own makes chance
// partners look cointegrated, and its true partner ranks first. `uses` is scratch.
template <typename Candidate>
void keep_per_symbol(std::vector<Candidate>& ranked, int max_per_symbol, std::size_t limit,
                     std::vector<int>& uses) {
  if (max_per_symbol <= 0) {
    if (limit > 0 && ranked.size() > limit) ranked.resize(limit);
    return;
  }
  std::size_t symbols = 0;
  for (const auto& c : ranked) symbols = std::max<std::size_t>({symbols, c.y + 1u, c.x + 1u});
  uses.assign(symbols, 0);
  std::size_t kept = 0;
  for (std::size_t k = 0; k < ranked.size(); ++k) {
    if (limit > 0 && kept >= limit) break;
    const auto& c = ranked[k];
    if (uses[c.y] >= max_per_symbol || uses[c.x] >= max_per_symbol) continue;
    ++uses[c.y];
    ++uses[c.x];
    ranked[kept++] = c;
  }
  ranked.resize(kept);
}

}  // namespace pairflow::screen
