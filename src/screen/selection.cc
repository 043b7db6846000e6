#include "screen/selection.h"

#include <fmt/format.h>

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
