#include "stats/johansen.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "stats/adf.h"
#include "stats/mackinnon.h"

extern "C" {
// LAPACK (Fortran ABI): the same general eigen-solver numpy.linalg.eig calls, so eigenvector
// signs come out as in statsmodels.
void dgeev_(const char* jobvl, const char* jobvr, const int* n, double* a, const int* lda,
            double* wr, double* wi, double* vl, const int* ldvl, double* vr, const int* ldvr,
            double* work, const int* lwork, int* info, size_t, size_t);
}

namespace pairflow::stats {
namespace {

using Matrix = Eigen::MatrixXd;

// Residuals of each column on [t^order .. t, 1] with t = linspace(-1, 1, n), as statsmodels'
// detrend; order -1 leaves the data alone.
void detrend(Matrix& y, int order) {
  if (order < 0 || y.cols() == 0) return;
  const int n = static_cast<int>(y.rows());
  Matrix basis(n, order + 1);
  for (int i = 0; i < n; ++i) {
    const double t = n == 1 ? -1.0 : -1.0 + 2.0 * i / (n - 1);
    double p = 1.0;
    for (int j = 0; j <= order; ++j, p *= t) basis(i, j) = p;
  }
  Eigen::ColPivHouseholderQR<Matrix> qr(basis);
  y -= basis * qr.solve(y);
}

// y - x (x^+ y): least-squares residuals; x may have no columns.
Matrix residual(const Matrix& y, const Matrix& x) {
  if (x.cols() == 0) return y;
  Eigen::ColPivHouseholderQR<Matrix> qr(x);
  return y - x * qr.solve(y);
}

}  // namespace

Result<JohansenResult> coint_johansen(std::span<const std::span<const double>> series,
                                      int det_order, int k_ar_diff) {
  const int neqs = static_cast<int>(series.size());
  if (neqs < 2) {
    return Status(StatusCode::kInvalidArgument,
                  "Johansen test needs at least 2 series, got " + std::to_string(neqs));
  }
  if (det_order < -1 || det_order > 1) {
    return Status(StatusCode::kInvalidArgument,
                  "det_order must be -1, 0 or 1, got " + std::to_string(det_order));
  }
  if (k_ar_diff < 0) {
    return Status(StatusCode::kInvalidArgument,
                  "k_ar_diff must be non-negative, got " + std::to_string(k_ar_diff));
  }
  const int n = static_cast<int>(series[0].size());
  for (int j = 0; j < neqs; ++j) {
    if (static_cast<int>(series[j].size()) != n) {
      return Status(StatusCode::kInvalidArgument, "Johansen series differ in length");
    }
    const std::string name = "series " + std::to_string(j);
    if (Status s = validate_series(series[j], name.c_str()); !s) return s;
  }
  // T = n - 1 - k_ar_diff rows; the residual regressions need more rows than regressors.
  const int t_rows = n - 1 - k_ar_diff;
  const int need_rows = neqs * k_ar_diff + (det_order >= 0 ? 1 : 0) + neqs + 1;
  if (t_rows < need_rows) {
    return Status(StatusCode::kInsufficientData,
                  "need at least " + std::to_string(need_rows + 1 + k_ar_diff) +
                      " observations for " + std::to_string(neqs) + " series and k_ar_diff " +
                      std::to_string(k_ar_diff) + ", got " + std::to_string(n));
  }

  Matrix endog(n, neqs);
  for (int j = 0; j < neqs; ++j)
    for (int i = 0; i < n; ++i) endog(i, j) = series[j][i];
  const int f = det_order > -1 ? 0 : -1;
  detrend(endog, det_order);

  const Matrix dx_all = endog.bottomRows(n - 1) - endog.topRows(n - 1);
  // Lagged differences: row r (time k_ar_diff + r of dx) holds dx[t-1], ..., dx[t-k].
  Matrix z(t_rows, neqs * k_ar_diff);
  for (int lag = 1; lag <= k_ar_diff; ++lag) {
    z.middleCols((lag - 1) * neqs, neqs) = dx_all.middleRows(k_ar_diff - lag, t_rows);
  }
  detrend(z, f);
  Matrix dx = dx_all.bottomRows(t_rows);
  detrend(dx, f);
  const Matrix r0t = residual(dx, z);
  Matrix lx = endog.middleRows(1, t_rows);  // levels y_{t-k}, statsmodels' alignment
  detrend(lx, f);
  const Matrix rkt = residual(lx, z);

  const double t = t_rows;
  const Matrix skk = rkt.transpose() * rkt / t;
  const Matrix sk0 = rkt.transpose() * r0t / t;
  const Matrix s00 = r0t.transpose() * r0t / t;
  Eigen::PartialPivLU<Matrix> s00_lu(s00), skk_lu(skk);
  if (std::fabs(s00_lu.determinant()) <= 0 || std::fabs(skk_lu.determinant()) <= 0) {
    return Status(StatusCode::kNumerical, "series are perfectly collinear");
  }
  const Matrix sig = sk0 * s00_lu.solve(sk0.transpose());
  Matrix m = skk_lu.inverse() * sig;

  // General eigenproblem exactly as numpy.linalg.eig (dgeev, right vectors, unit 2-norm).
  std::vector<double> wr(neqs), wi(neqs), work(1);
  Matrix vr(neqs, neqs);
  int info = 0, lwork = -1, ld = neqs, one = 1;
  double dummy = 0;
  dgeev_("N", "V", &neqs, m.data(), &ld, wr.data(), wi.data(), &dummy, &one, vr.data(), &ld,
         work.data(), &lwork, &info, 1, 1);
  lwork = static_cast<int>(work[0]);
  work.resize(std::max(1, lwork));
  dgeev_("N", "V", &neqs, m.data(), &ld, wr.data(), wi.data(), &dummy, &one, vr.data(), &ld,
         work.data(), &lwork, &info, 1, 1);
  if (info != 0) return Status(StatusCode::kNumerical, "Johansen eigenproblem did not converge");
  for (int i = 0; i < neqs; ++i) {
    if (wi[i] != 0) {
      return Status(StatusCode::kNumerical, "Johansen eigenproblem has complex eigenvalues");
    }
  }
  // Scale the eigenvectors so that v' S_kk v = 1: du * inv(chol(du' S_kk du)).
  const Matrix g = vr.transpose() * skk * vr;
  Eigen::LLT<Matrix> llt(g);
  if (llt.info() != Eigen::Success) {
    return Status(StatusCode::kNumerical, "Johansen eigenvectors are degenerate");
  }
  const Matrix l_inv = Matrix(llt.matrixL()).inverse();
  const Matrix dt = vr * l_inv;

  std::vector<int> order(neqs);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return wr[a] > wr[b]; });

  JohansenResult out;
  out.neqs = neqs;
  out.nobs = t_rows;
  out.eig.resize(neqs);
  out.evec.resize(static_cast<size_t>(neqs) * neqs);
  for (int j = 0; j < neqs; ++j) {
    out.eig[j] = wr[order[j]];
    for (int i = 0; i < neqs; ++i) out.evec[static_cast<size_t>(i) * neqs + j] = dt(i, order[j]);
  }
  // One global sign: the first non-zero entry in row-major order becomes positive.
  for (double v : out.evec) {
    if (v != 0) {
      if (v < 0)
        for (double& e : out.evec) e = -e;
      break;
    }
  }
  out.lr1.resize(neqs);
  out.lr2.resize(neqs);
  out.cvt.resize(neqs);
  out.cvm.resize(neqs);
  for (int i = 0; i < neqs; ++i) {
    double s = 0;
    for (int j = i; j < neqs; ++j) s += std::log(1.0 - out.eig[j]);
    out.lr1[i] = -t * s;
    out.lr2[i] = -t * std::log(1.0 - out.eig[i]);
    out.cvt[i] = johansen_trace_crit(neqs - i, det_order);
    out.cvm[i] = johansen_max_eig_crit(neqs - i, det_order);
  }
  return out;
}

}  // namespace pairflow::stats
