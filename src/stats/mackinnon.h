// MacKinnon response-surface p-values (1994) and critical values (2010) for unit-root and
// Engle-Granger cointegration t-statistics, plus the Johansen (MacKinnon-Haug-Michelis 1996)
// critical-value tables. Same tables and formulas as statsmodels' mackinnonp / mackinnoncrit /
// c_sja / c_sjt.
//
// Pure functions over constant tables: thread-safe.
#pragma once

#include <array>

#include "stats/trend.h"

namespace pairflow::stats {

// Approximate asymptotic p-value of a (A)DF / Engle-Granger t-statistic with `n_series` I(1)
// series (1 for ADF, 2 for a pair). n_series must be 1..6; NaN otherwise (or for a NaN stat).
double mackinnon_pvalue(double stat, Trend trend, int n_series);

// Finite-sample 1%, 5%, 10% critical values for sample size `nobs` (nobs <= 0 means the
// asymptotic values). n_series 1..12 (only 1 for Trend::kNone); NaNs otherwise.
std::array<double, 3> mackinnon_crit(Trend trend, int n_series, int nobs);

// Johansen critical values at 90%, 95%, 99% (statsmodels' column order) for `n_remaining`
// = neqs - r (1..12) and det_order -1, 0, 1; NaNs otherwise.
std::array<double, 3> johansen_trace_crit(int n_remaining, int det_order);
std::array<double, 3> johansen_max_eig_crit(int n_remaining, int det_order);

}  // namespace pairflow::stats
