#include "portfolio/performance.h"

#include <algorithm>
#include <cmath>

namespace pairflow::portfolio {

Performance performance(std::span<const double> equity, double capital, double periods_per_year) {
  Performance p;
  if (equity.size() >= 2) {
    double sum = 0, sum2 = 0;
    double prev = capital;
    for (double e : equity) {
      const double r = (e - prev) / capital;
      sum += r;
      sum2 += r * r;
      prev = e;
    }
    const double n = static_cast<double>(equity.size());
    const double mean = sum / n;
    const double var = std::max(0.0, sum2 / n - mean * mean) * n / (n - 1);
    p.sharpe = var > 0 ? mean / std::sqrt(var) * std::sqrt(periods_per_year) : 0.0;
  }
  double peak = capital;
  for (double e : equity) {
    peak = std::max(peak, e);
    if (peak - e > p.max_drawdown) {
      p.max_drawdown = peak - e;
      p.max_drawdown_pct = (peak - e) / peak;
    }
  }
  return p;
}

}  // namespace pairflow::portfolio
