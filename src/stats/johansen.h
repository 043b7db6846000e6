// Johansen cointegration rank test, numerically equivalent to statsmodels 0.13.5
// tsa.vector_ar.vecm.coint_johansen (same sample alignment, detrending, eigenproblem, eigenvector
// normalisation and MacKinnon-Haug-Michelis critical values).
//
// Pure function: thread-safe.
#pragma once

#include <array>
#include <span>
#include <vector>

#include "base/status.h"

namespace pairflow::stats {

struct JohansenResult {
  int neqs = 0;
  int nobs = 0;                            // rows of the residual regressions (T)
  std::vector<double> eig;                 // descending
  std::vector<double> lr1;                 // trace statistics, r = 0..neqs-1
  std::vector<double> lr2;                 // maximum-eigenvalue statistics
  std::vector<std::array<double, 3>> cvt;  // trace critical values: 90%, 95%, 99%
  std::vector<std::array<double, 3>> cvm;  // max-eig critical values: 90%, 95%, 99%
  // neqs x neqs, column j = eigenvector of eig[j], row-major (evec[i * neqs + j]), scaled so
  // that v' S_kk v = 1 and the whole matrix multiplied by the sign of evec[0][0] (statsmodels'
  // normalisation; the sign of columns j >= 1 is whatever LAPACK dgeev returns, as in numpy).
  std::vector<double> evec;
  double evec_at(int i, int j) const { return evec[static_cast<size_t>(i) * neqs + j]; }
};

// `series` are the neqs >= 2 columns of the endogenous matrix, all of the same length.
// det_order: -1 none, 0 constant, 1 linear trend. k_ar_diff >= 0 lagged differences.
Result<JohansenResult> coint_johansen(std::span<const std::span<const double>> series,
                                      int det_order, int k_ar_diff);

}  // namespace pairflow::stats
