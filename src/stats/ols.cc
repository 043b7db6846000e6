#include "stats/ols.h"

#include <Eigen/Dense>
#include <cmath>
#include <numbers>
#include <string>

namespace pairflow::stats {

Result<OlsResult> ols(const double* X_colmajor, int nobs, int k, const double* y) {
  if (k < 1 || nobs <= k) {
    return Status(StatusCode::kInsufficientData, "need more observations than regressors, got " +
                                                     std::to_string(nobs) + " observations for " +
                                                     std::to_string(k) + " regressors");
  }
  for (int i = 0; i < nobs; ++i) {
    if (!std::isfinite(y[i])) {
      return Status(StatusCode::kInvalidArgument, std::string("y contains ") +
                                                      (std::isnan(y[i]) ? "NaN" : "inf") +
                                                      " at row " + std::to_string(i));
    }
  }
  for (long i = 0; i < static_cast<long>(nobs) * k; ++i) {
    if (!std::isfinite(X_colmajor[i])) {
      return Status(StatusCode::kInvalidArgument, std::string("X contains ") +
                                                      (std::isnan(X_colmajor[i]) ? "NaN" : "inf") +
                                                      " at row " + std::to_string(i % nobs) +
                                                      ", column " + std::to_string(i / nobs));
    }
  }
  Eigen::Map<const Eigen::MatrixXd> X(X_colmajor, nobs, k);
  Eigen::Map<const Eigen::VectorXd> Y(y, nobs);

  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(X);
  // Same tolerance as numpy.linalg.matrix_rank (sigma_max * max(n, k) * eps), applied to R.
  qr.setThreshold(std::max(nobs, k) * std::numeric_limits<double>::epsilon());
  if (qr.rank() < k) {
    return Status(StatusCode::kNumerical, "regressors are perfectly collinear");
  }
  OlsResult out;
  out.nobs = nobs;
  const Eigen::VectorXd beta = qr.solve(Y);
  const Eigen::VectorXd resid = Y - X * beta;
  out.ssr = resid.squaredNorm();
  out.df_resid = nobs - k;

  // k_constant: an explicit constant (non-zero) column, else a constant in the column space.
  int k_constant = 0;
  for (int j = 0; j < k && !k_constant; ++j) {
    if (X.col(j).maxCoeff() == X.col(j).minCoeff() && X(0, j) != 0) k_constant = 1;
  }
  if (!k_constant) {
    const Eigen::VectorXd ones = Eigen::VectorXd::Ones(nobs);
    const Eigen::VectorXd r1 = ones - X * qr.solve(ones);
    if (r1.squaredNorm() <= 1e-20 * nobs) k_constant = 1;
  }
  out.df_model = k - k_constant;

  const double tss = k_constant ? (Y.array() - Y.mean()).square().sum() : Y.squaredNorm();
  out.r2 = 1.0 - out.ssr / tss;
  const double n = nobs;
  out.llf = -n / 2 * std::log(2 * std::numbers::pi) - n / 2 * std::log(out.ssr / n) - n / 2;
  out.aic = -2 * out.llf + 2.0 * k;
  out.bic = -2 * out.llf + std::log(n) * k;

  // (X'X)^-1 = P R^-1 R^-T P'
  const int kk = k;
  Eigen::MatrixXd r = qr.matrixR().topLeftCorner(kk, kk).triangularView<Eigen::Upper>();
  Eigen::MatrixXd rinv = r.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(kk, kk));
  const Eigen::VectorXd diag_perm = rinv.rowwise().squaredNorm();
  const double scale = out.ssr / out.df_resid;
  out.params.assign(beta.data(), beta.data() + k);
  out.resid.assign(resid.data(), resid.data() + nobs);
  out.bse.resize(k);
  out.tvalues.resize(k);
  const auto& perm = qr.colsPermutation().indices();
  for (int i = 0; i < k; ++i) {
    const int col = perm(i);
    out.bse[col] = std::sqrt(scale * diag_perm(i));
  }
  for (int j = 0; j < k; ++j) out.tvalues[j] = out.params[j] / out.bse[j];
  return out;
}

}  // namespace pairflow::stats
