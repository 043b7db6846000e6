#include "screen/selection.h"

namespace pairflow::screen {

bool stable_in_subwindows(std::span<const double> y, std::span<const double> x, int splits,
                          double max_pvalue, const stats::CointOptions& options,
                          stats::CointWorkspace& workspace) {
  if (splits <= 1) return true;
  const std::size_t part = y.size() / static_cast<std::size_t>(splits);
  for (int k = 0; k < splits; ++k) {
    const std::size_t from = static_cast<std::size_t>(k) * part;
    auto r = workspace.run(y.subspan(from, part), x.subspan(from, part), options);
    if (!r || !(r->pvalue <= max_pvalue)) return false;
  }
  return true;
}

double max_subwindow_pvalue(std::span<const double> y, std::span<const double> x, int splits,
                            const stats::CointOptions& options, stats::CointWorkspace& workspace) {
  if (splits <= 1) return 0.0;
  const std::size_t part = y.size() / static_cast<std::size_t>(splits);
  double worst = 0.0;
  for (int k = 0; k < splits; ++k) {
    const std::size_t from = static_cast<std::size_t>(k) * part;
    auto r = workspace.run(y.subspan(from, part), x.subspan(from, part), options);
    worst = std::max(worst, r ? r->pvalue : 1.0);
  }
  return worst;
}

}  // namespace pairflow::screen
