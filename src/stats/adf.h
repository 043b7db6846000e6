// Augmented Dickey-Fuller unit-root test, numerically equivalent to statsmodels 0.13.5
// tsa.stattools.adfuller (same default maxlag and cap, same lag search on a common trimmed
// sample followed by a refit on the full sample, same MacKinnon p-value / critical values).
//
// Thread-safety: adf() is thread-safe (it uses thread-local scratch). An AdfWorkspace is not;
// give each thread its own.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "stats/trend.h"

namespace pairflow::stats {

struct AdfOptions {
  Trend trend = Trend::kConstant;
  std::optional<int> maxlag;  // default: ceil(12 (n/100)^(1/4)), capped at n/2 - ntrend - 1
  AutoLag autolag = AutoLag::kAic;
};

struct AdfResult {
  double stat, pvalue;
  int usedlag, nobs;  // chosen lag; observations in the final regression (n - 1 - usedlag)
  double crit[3];     // 1%, 5%, 10% (MacKinnon 2010 for nobs)
  int maxlag = 0;     // the maxlag actually searched
  double icbest = 0;  // best AIC/BIC, or |t| of the chosen lag for t-stat; 0 for AutoLag::kNone
};

Result<AdfResult> adf(std::span<const double> x, const AdfOptions& options = {});

// Reusable scratch: after warm-up, run() does no heap allocation for series no longer than
// seen before. Results are identical to adf().
class AdfWorkspace {
 public:
  Result<AdfResult> run(std::span<const double> x, const AdfOptions& options = {});

  // The ADF regression core without the critical-value lookup, for callers (coint) that use
  // other tables; `x` has already been validated.
  Result<AdfResult> run_unchecked(std::span<const double> x, const AdfOptions& options);

 private:
  struct Fit;
  bool fit_nested(int nlags, int nobs, bool level_last, bool allow_gram, Fit* fit);

  Trend trend_ = Trend::kConstant;
  std::span<const double> x_;
  std::vector<double> xs_, d_, prefix_, gram_, design_, y_, r_diag_, qty_, ic_;
};

// Checks a series for NaN/inf and a constant value; `name` prefixes the message ("series").
Status validate_series(std::span<const double> x, const char* name);

}  // namespace pairflow::stats
