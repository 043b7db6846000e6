// Engle-Granger two-step cointegration test (== statsmodels 0.13.5 tsa.stattools.coint(y, x))
// and the Ornstein-Uhlenbeck half-life of a spread.
//
// Thread-safety: coint() and half_life() are thread-safe (thread-local scratch). A
// CointWorkspace is not; give each screener thread its own and reuse it across pairs.
#pragma once

#include <optional>
#include <span>

#include "base/status.h"
#include "stats/adf.h"
#include "stats/trend.h"

namespace pairflow::stats {

struct CointOptions {
  Trend trend = Trend::kConstant;  // deterministic terms in the cointegrating regression
  std::optional<int> maxlag;       // for the ADF on residuals (default as adfuller)
  AutoLag autolag = AutoLag::kAic;
};

struct CointResult {
  double stat, pvalue;
  double crit[3];                 // 1%, 5%, 10% (MacKinnon 2010, N=2, nobs-1); NaN for Trend::kNone
  double hedge_ratio, intercept;  // y = intercept + hedge_ratio * x (+ trend terms) + u
  int usedlag, nobs;              // from the ADF on the residuals
};

// Errors: length mismatch, NaN/inf, constant series, too short, and y, x (almost) perfectly
// collinear (R^2 >= 1 - 100 sqrt(eps); statsmodels returns stat = -inf there instead).
Result<CointResult> coint(std::span<const double> y, std::span<const double> x,
                          const CointOptions& options = {});

// Reusable scratch for screening many pairs: no heap allocation once warmed up.
class CointWorkspace {
 public:
  Result<CointResult> run(std::span<const double> y, std::span<const double> x,
                          const CointOptions& options = {});
  // Residuals of the last successful run (the spread y - intercept - hedge_ratio x - trend).
  std::span<const double> residuals() const { return resid_; }

 private:
  AdfWorkspace adf_;
  std::vector<double> resid_, design_, tau_;
};

// Half-life (in observations) of mean reversion: regress s_t - s_{t-1} on [1, s_{t-1}] and
// return -ln 2 / ln(1 + beta). Errors if beta >= 0 (not mean-reverting) or beta <= -1.
Result<double> half_life(std::span<const double> spread);

}  // namespace pairflow::stats
