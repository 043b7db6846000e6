// Performance statistics of an equity curve: the Sharpe ratio of per-period returns relative to
// the capital, annualised, and the maximum drawdown from the running peak (the curve starts at the
// capital). Pure function; any thread.
#pragma once

#include <span>

namespace pairflow::portfolio {

struct Performance {
  double sharpe = 0;            // 0 with fewer than two periods or no variance
  double max_drawdown = 0;      // in currency
  double max_drawdown_pct = 0;  // of the peak it fell from
};

// `equity` after each period; `periods_per_year` annualises (252 sessions of 6.5 hours of 1-minute
// bars: 98,280).
Performance performance(std::span<const double> equity, double capital, double periods_per_year);

}  // namespace pairflow::portfolio
