#include "screen/table_screen.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace pairflow::screen {

Result<TableScreen> screen_table(const PriceTable& table, const std::vector<std::string>& names,
                                 ScreenerConfig config, const std::string& source) {
  const int rows = table.rows;
  if (table.cols != static_cast<int>(names.size()))
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("{}: {} columns but {} names", source, table.cols, names.size()));
  if (table.cols < 2)
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("{}: {} column{}: a screen needs at least two symbols", source,
                              table.cols, table.cols == 1 ? "" : "s"));
  if (rows < kMinScreenWindow + 1)
    return Status(
        StatusCode::kInvalidArgument,
        fmt::format("{}: {} data row{}: the screen needs at least {} (a window of {} returns)",
                    source, rows, rows == 1 ? "" : "s", kMinScreenWindow + 1, kMinScreenWindow));
  if (config.window <= 0) config.window = rows - 1;
  if (config.window > rows - 1)
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("{}: window {} needs at least {} rows, the table has {}", source,
                              config.window, config.window + 1, rows));
  config.update_block = 64;
  config.rebuild_every = 1 << 30;  // one pass: the window is rebuilt only at the end
  if (auto s = Screener::validate(config); !s)
    return Status(StatusCode::kInvalidArgument, fmt::format("{}: {}", source, s.message()));

  TableScreen out;
  Screener screener(table.cols, config);
  // Only the last window + 1 rows matter; a symbol's last value before them is carried into the
  // window's first row (forward fill).
  const int first = rows - (config.window + 1);
  std::vector<double> row(table.cols, std::numeric_limits<double>::quiet_NaN());
  for (int r = 0; r < first; ++r)
    for (int c = 0; c < table.cols; ++c)
      if (const double v = table.at(r, c); std::isfinite(v)) row[c] = v;
  for (int r = first; r < rows; ++r) {
    for (int c = 0; c < table.cols; ++c) {
      const double v = table.at(r, c);
      if (r > first || std::isfinite(v)) row[c] = v;
    }
    screener.on_bar(row);
  }
  out.result = screener.screen();

  for (int c = 0; c < table.cols; ++c) {
    double first_value = std::numeric_limits<double>::quiet_NaN();
    bool varies = false;
    for (int r = first; r < rows && !varies; ++r) {
      const double v = table.at(r, c);
      if (!std::isfinite(v)) continue;
      if (std::isnan(first_value))
        first_value = v;
      else if (v != first_value)
        varies = true;
    }
    if (std::isnan(first_value))
      out.untestable.push_back(names[c] + " (no values in the window)");
    else if (!varies)
      out.untestable.push_back(names[c] + " (constant in the window)");
  }
  out.config = config;
  return out;
}

std::string describe_screen(const TableScreen& screen) {
  const ScreenerConfig& config = screen.config;
  const ScreenResult& result = screen.result;
  const std::string family =
      config.neighbours > 0 ? fmt::format("each symbol's {} nearest neighbours", config.neighbours)
                            : std::string("every pair");
  const std::string level =
      config.correction == Correction::kBenjaminiHochberg
          ? fmt::format("false-discovery rate {:g} (Benjamini-Hochberg)", config.max_pvalue)
      : config.correction == Correction::kBonferroni
          ? fmt::format("family-wise error {:g} (Bonferroni)", config.max_pvalue)
          : fmt::format("raw p-value {:g} (no correction)", config.max_pvalue);
  // The raw pair p-value the correction let through: what "significant" meant for this family.
  const std::string cutoff =
      result.significant > 0 ? fmt::format(" (pair p <= {:.3g})", result.pvalue_cutoff) : "";
  return fmt::format(
      "{} pairs selected of {} ({} symbols): {} tested ({}), {} past |corr|, {} past the DF "
      "pre-screen, {} significant at {}{}, {} past the spread filters",
      result.candidates.size(), result.pairs, result.symbols_ready, result.tests, family,
      result.corr_passed, result.prescreen_passed, result.significant, level, cutoff,
      result.filtered_passed);
}

}  // namespace pairflow::screen
