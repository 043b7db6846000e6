// Nested least squares: one factorisation of the design [c_0 .. c_{k-1}] gives, for every
// p = 1..k, the regression of y on the first p columns (SSR and the t-value of column p-1).
// Used for ADF lag selection, where the candidate models are nested column prefixes.
//
// Internal. Stateless functions over caller-owned buffers: thread-safe.
#pragma once

namespace pairflow::stats::internal {

// r_diag[i] = |R_ii| of the QR factor of the design; qty[i] = sign(R_ii) * (Q'y)_i, so
// coefficients of the prefix model solve R_p b = Q_p'y and the last one has t = qty[p-1]/sigma_p.
struct NestedView {
  int k = 0;
  int nobs = 0;
  const double* r_diag = nullptr;
  const double* qty = nullptr;
  double ssr_full = 0;       // SSR of the model with all k columns
  double min_rel_pivot = 1;  // min_i R_ii^2 / ||c_i||^2: 1 = orthogonal columns, 0 = collinear
  double rel_ssr = 1;        // ssr_full / ||y||^2: near 0 means SSR came from cancellation

  // SSR of the model with the first p columns.
  double ssr(int p) const {
    double s = ssr_full;
    for (int i = k - 1; i >= p; --i) s += qty[i] * qty[i];
    return s;
  }
  // t-value of column p-1 in the model with the first p columns.
  double t_last(int p, double ssr_p) const;
};

// Cholesky of the (k+1)x(k+1) column-major Gram matrix of [design | y] (lower triangle read,
// overwritten). Fills r_diag/qty (each length k). Returns false if a pivot is not positive.
bool nested_from_gram(double* gram, int k, int nobs, double* r_diag, double* qty, NestedView* view);

// Householder QR of the column-major nobs x k design (overwritten) applied to y (overwritten).
// Returns false if a column is exactly zero after projection.
bool nested_from_qr(double* design, int nobs, int k, double* y, double* r_diag, double* qty,
                    NestedView* view);

}  // namespace pairflow::stats::internal
