#include "stats/internal/nested_fit.h"

#include <cmath>

namespace pairflow::stats::internal {

double NestedView::t_last(int p, double ssr_p) const {
  const double sigma = std::sqrt(ssr_p / (nobs - p));
  return qty[p - 1] / sigma;
}

bool nested_from_gram(double* g, int k, int nobs, double* r_diag, double* qty, NestedView* view) {
  const int n1 = k + 1;
  auto at = [&](int i, int j) -> double& { return g[i + j * n1]; };
  double min_rel = 1.0;
  // Left-looking Cholesky, lower triangle; column y (index k) is factored like any other, which
  // yields L[k][i] = (Q'y)_i and L[k][k]^2 = SSR of the full model.
  for (int j = 0; j < n1; ++j) {
    const double gjj = at(j, j);
    double djj = gjj;
    for (int p = 0; p < j; ++p) djj -= at(j, p) * at(j, p);
    if (j < k) {
      if (!(djj > 0) || !(gjj > 0)) return false;
      min_rel = std::fmin(min_rel, djj / gjj);
    } else if (djj < 0) {
      djj = 0;  // exact fit up to rounding
    }
    const double ljj = std::sqrt(djj);
    at(j, j) = ljj;
    for (int i = j + 1; i < n1; ++i) {
      double s = at(i, j);
      for (int p = 0; p < j; ++p) s -= at(i, p) * at(j, p);
      at(i, j) = ljj > 0 ? s / ljj : 0.0;
    }
  }
  for (int i = 0; i < k; ++i) {
    r_diag[i] = at(i, i);
    qty[i] = at(k, i);
  }
  const double lyy = at(k, k);
  double yy = lyy * lyy;
  for (int i = 0; i < k; ++i) yy += qty[i] * qty[i];
  *view = NestedView{k, nobs, r_diag, qty, lyy * lyy, min_rel, yy > 0 ? lyy * lyy / yy : 0.0};
  return true;
}

bool nested_from_qr(double* a, int nobs, int k, double* y, double* r_diag, double* qty,
                    NestedView* view) {
  double min_rel = 1.0;
  for (int j = 0; j < k; ++j) {
    double* col = a + static_cast<long>(j) * nobs;
    double tail2 = 0;
    for (int i = j; i < nobs; ++i) tail2 += col[i] * col[i];
    // Original column norm for the collinearity measure: projected part plus removed part.
    double removed2 = 0;
    for (int i = 0; i < j; ++i) removed2 += col[i] * col[i];
    const double norm = std::sqrt(tail2);
    if (!(norm > 0)) return false;
    min_rel = std::fmin(min_rel, tail2 / (tail2 + removed2));
    const double alpha = col[j] > 0 ? -norm : norm;
    // Householder vector v = x - alpha e1, stored in col[j..]; H = I - 2 v v'/(v'v).
    const double v0 = col[j] - alpha;
    const double vtv = tail2 - col[j] * col[j] + v0 * v0;
    col[j] = v0;
    auto reflect = [&](double* c) {
      double s = 0;
      for (int i = j; i < nobs; ++i) s += col[i] * c[i];
      const double f = 2.0 * s / vtv;
      for (int i = j; i < nobs; ++i) c[i] -= f * col[i];
    };
    for (int jj = j + 1; jj < k; ++jj) reflect(a + static_cast<long>(jj) * nobs);
    reflect(y);
    // R_jj = alpha; normalise sign so the diagonal is positive, as in Cholesky.
    r_diag[j] = std::fabs(alpha);
    qty[j] = alpha < 0 ? -y[j] : y[j];
    col[j] = alpha;  // keep R_jj where later rows of column j (above diag) live
  }
  double ssr = 0;
  for (int i = k; i < nobs; ++i) ssr += y[i] * y[i];
  double yy = ssr;
  for (int i = 0; i < k; ++i) yy += qty[i] * qty[i];
  *view = NestedView{k, nobs, r_diag, qty, ssr, min_rel, yy > 0 ? ssr / yy : 0.0};
  return true;
}

}  // namespace pairflow::stats::internal
