// The one-shot screen of a table of prices (rows = bars, columns = symbols): the streaming
// screener (screener.h) fed the table's last window + 1 rows once, then screened. `pairflow
// screen` and the Python module's pairflow.screen() both run it, so a table gives the same
// ranking from either. Values are taken as they are (log prices when the caller took logs); NaN is
// a missing value, forward-filled, and a symbol with no value or one value throughout the window
// cannot be tested (listed in `untestable` with why).
//
// Pure function of its inputs; runs on the caller's thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/status.h"
#include "screen/screener.h"

namespace pairflow::screen {

// A read-only matrix view: value(r, c) = data[r * row_stride + c * col_stride], so a row-major
// file and a column-major numpy array are both read in place.
struct PriceTable {
  const double* data = nullptr;
  int rows = 0, cols = 0;
  std::ptrdiff_t row_stride = 0, col_stride = 0;
  double at(int r, int c) const { return data[r * row_stride + c * col_stride]; }
};

// Fewest log returns a one-shot screen accepts: fewer give Engle-Granger nothing to stand on.
inline constexpr int kMinScreenWindow = 20;

struct TableScreen {
  ScreenerConfig config;  // as run (window resolved)
  ScreenResult result;
  std::vector<std::string> untestable;  // "NAME (no values in the window)" / "(constant ...)"
};

// `config.window` 0 = every row. `config.update_block` and `rebuild_every` are set for one pass.
// Errors (one line, the source's name first): too few rows, a window longer than the table, an
// invalid configuration.
Result<TableScreen> screen_table(const PriceTable& table, const std::vector<std::string>& names,
                                 ScreenerConfig config, const std::string& source);

// The one-line account `pairflow screen` prints under its table: selected of pairs, tested,
// past each stage, the family and the error level.
std::string describe_screen(const TableScreen& screen);

}  // namespace pairflow::screen
