// Hurst exponent estimators for a level series (price or spread). H ~ 0.5 for a random walk,
// < 0.5 for a mean-reverting series, > 0.5 for a trending one. See docs/statistics.md for the
// definitions and each method's small-sample bias.
//
// Pure functions: thread-safe.
#pragma once

#include <span>

#include "base/status.h"

namespace pairflow::stats {

enum class HurstMethod {
  kVariance,       // slope of log std(x_{t+tau} - x_t) on log tau
  kRescaledRange,  // R/S of increments, Anis-Lloyd-Peters expected-R/S correction
  kDfa,            // detrended fluctuation analysis, order 1, of increments
};

struct HurstOptions {
  HurstMethod method = HurstMethod::kVariance;
  // Scale range: lags tau for kVariance, window lengths for kRescaledRange / kDfa.
  // 0 = default: variance 2..max(2, min(100, n/10)); R/S 10..n/4; DFA 8..n/4.
  int min_scale = 0;
  int max_scale = 0;
  int num_scales = 20;  // R/S and DFA: log-spaced window lengths (distinct integers)
};

struct HurstResult {
  double hurst;      // estimated H
  double intercept;  // of the log-log fit
  double r2;         // of the log-log fit
  int num_scales;    // points in the fit
};

Result<HurstResult> hurst(std::span<const double> levels, const HurstOptions& options = {});

}  // namespace pairflow::stats
