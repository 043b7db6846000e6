// Ordinary least squares with statsmodels' OLS result definitions (params, bse, tvalues, resid,
// ssr, rsquared, llf, aic, bic, df_model, df_resid). General-purpose and allocation-per-call;
// the unit-root tests use their own allocation-free kernels.
//
// Pure function: thread-safe.
#pragma once

#include <vector>

#include "base/status.h"

namespace pairflow::stats {

struct OlsResult {
  std::vector<double> params, bse, tvalues, resid;
  double ssr = 0, r2 = 0, llf = 0, aic = 0, bic = 0;
  int nobs = 0, df_model = 0, df_resid = 0;
};

// Regresses y (length nobs) on the nobs x k column-major matrix X. No constant is added.
// As in statsmodels, r2 is centred when X holds a constant (an explicit constant column, or a
// constant implied by the column space), uncentred otherwise; df_model = k - k_constant;
// aic = -2 llf + 2 k, bic = -2 llf + ln(nobs) k. Errors: NaN/inf, nobs <= k, collinear X.
Result<OlsResult> ols(const double* X_colmajor, int nobs, int k, const double* y);

}  // namespace pairflow::stats
