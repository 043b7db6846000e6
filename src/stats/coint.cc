#include "stats/coint.h"

#include <cmath>
#include <limits>
#include <string>

#include "stats/internal/nested_fit.h"
#include "stats/mackinnon.h"

namespace pairflow::stats {
namespace {

// statsmodels' collinearity cut-off: rsquared >= 1 - 100 * sqrt(machine epsilon).
const double kCollinearR2 = 1.0 - 100.0 * std::sqrt(std::numeric_limits<double>::epsilon());

}  // namespace

Result<CointResult> coint(std::span<const double> y, std::span<const double> x,
                          const CointOptions& options) {
  thread_local CointWorkspace workspace;
  return workspace.run(y, x, options);
}

Result<CointResult> CointWorkspace::run(std::span<const double> y, std::span<const double> x,
                                        const CointOptions& options) {
  if (y.size() != x.size()) {
    return Status(StatusCode::kInvalidArgument, "y and x differ in length (" +
                                                    std::to_string(y.size()) + " vs " +
                                                    std::to_string(x.size()) + ")");
  }
  if (Status s = validate_series(y, "y"); !s) return s;
  if (Status s = validate_series(x, "x"); !s) return s;
  const int n = static_cast<int>(y.size());
  const int nt = trend_terms(options.trend);
  if (n < nt + 3) {
    return Status(StatusCode::kInsufficientData, "need at least " + std::to_string(nt + 3) +
                                                     " observations, got " + std::to_string(n));
  }
  resid_.resize(n);
  CointResult out{};
  double ssr = 0, tss = 0;
  if (nt == 0) {
    double sxy = 0, sxx = 0;
    for (int i = 0; i < n; ++i) {
      sxy += x[i] * y[i];
      sxx += x[i] * x[i];
    }
    const double beta = sxy / sxx;
    for (int i = 0; i < n; ++i) {
      resid_[i] = y[i] - beta * x[i];
      ssr += resid_[i] * resid_[i];
      tss += y[i] * y[i];  // no constant: uncentred R^2, as statsmodels
    }
    out.hedge_ratio = beta;
    out.intercept = 0;
  } else {
    // The constant is partialled out by centring (two-pass means), which keeps full precision
    // for prices near 1e4 with small moves.
    double ym = 0, xm = 0;
    for (int i = 0; i < n; ++i) {
      ym += y[i];
      xm += x[i];
    }
    ym /= n;
    xm /= n;
    if (nt == 1) {
      double sxy = 0, sxx = 0;
      for (int i = 0; i < n; ++i) {
        sxy += (x[i] - xm) * (y[i] - ym);
        sxx += (x[i] - xm) * (x[i] - xm);
      }
      const double beta = sxy / sxx;
      for (int i = 0; i < n; ++i) {
        const double yc = y[i] - ym;
        resid_[i] = yc - beta * (x[i] - xm);
        ssr += resid_[i] * resid_[i];
        tss += yc * yc;
      }
      out.hedge_ratio = beta;
      out.intercept = ym - beta * xm;
    } else {
      // Columns: centred x, centred tau = t - c, centred tau^2 (t = 1..n, c = (n+1)/2).
      const int k = nt;  // x plus nt-1 trend columns
      const double c = (n + 1) / 2.0;
      double tau2_mean = 0;
      for (int i = 0; i < n; ++i) tau2_mean += (i + 1 - c) * (i + 1 - c);
      tau2_mean /= n;
      tau_.resize(static_cast<size_t>(n) * k);
      design_.resize(static_cast<size_t>(n) * k);
      for (int i = 0; i < n; ++i) {
        tau_[i] = x[i] - xm;
        tau_[n + i] = i + 1 - c;
        if (k == 3) tau_[2 * n + i] = (i + 1 - c) * (i + 1 - c) - tau2_mean;
        resid_[i] = y[i] - ym;
        tss += resid_[i] * resid_[i];
      }
      std::copy(tau_.begin(), tau_.end(), design_.begin());
      double r_diag[3], qty[3];
      internal::NestedView view;
      // resid_ temporarily holds Q'y_c; the coefficients come from R b = Q'y.
      std::vector<double>& qy = resid_;
      if (!internal::nested_from_qr(design_.data(), n, k, qy.data(), r_diag, qty, &view) ||
          view.min_rel_pivot < 1e-24) {
        return Status(StatusCode::kNumerical, "regressors are perfectly collinear");
      }
      double b[3] = {0, 0, 0};
      for (int i = k - 1; i >= 0; --i) {
        double s = qy[i];
        for (int j = i + 1; j < k; ++j) s -= design_[i + static_cast<size_t>(j) * n] * b[j];
        b[i] = s / design_[i + static_cast<size_t>(i) * n];
      }
      for (int i = 0; i < n; ++i) {
        double fit = 0;
        for (int j = 0; j < k; ++j) fit += tau_[static_cast<size_t>(j) * n + i] * b[j];
        resid_[i] = (y[i] - ym) - fit;
        ssr += resid_[i] * resid_[i];
      }
      out.hedge_ratio = b[0];
      // Back to the statsmodels basis [x, 1, t, t^2]: only the constant is reported.
      const double g1 = b[1], g2 = k == 3 ? b[2] : 0.0;
      out.intercept = ym - b[0] * xm - g1 * c + g2 * (c * c - tau2_mean);
    }
  }
  const double r2 = 1.0 - ssr / tss;
  if (!(r2 < kCollinearR2)) {
    return Status(StatusCode::kNumerical,
                  "y and x are (almost) perfectly collinear (R^2 = " + std::to_string(r2) + ")");
  }
  AdfOptions adf_options;
  adf_options.trend = Trend::kNone;
  adf_options.maxlag = options.maxlag;
  adf_options.autolag = options.autolag;
  Result<AdfResult> adf = adf_.run_unchecked(resid_, adf_options);
  if (!adf) return adf.status();
  out.stat = adf->stat;
  out.usedlag = adf->usedlag;
  out.nobs = adf->nobs;
  out.pvalue = mackinnon_pvalue(out.stat, options.trend, 2);
  if (options.trend == Trend::kNone) {
    out.crit[0] = out.crit[1] = out.crit[2] = std::numeric_limits<double>::quiet_NaN();
  } else {
    // statsmodels passes nobs - 1 here (to match Stata's egranger).
    const auto crit = mackinnon_crit(options.trend, 2, n - 1);
    std::copy(crit.begin(), crit.end(), out.crit);
  }
  return out;
}

Result<double> half_life(std::span<const double> spread) {
  if (Status s = validate_series(spread, "spread"); !s) return s;
  const int n = static_cast<int>(spread.size());
  if (n < 4) {
    return Status(StatusCode::kInsufficientData,
                  "need at least 4 observations for a half-life, got " + std::to_string(n));
  }
  const int m = n - 1;
  double lm = 0, dm = 0;
  for (int i = 0; i < m; ++i) {
    lm += spread[i];
    dm += spread[i + 1] - spread[i];
  }
  lm /= m;
  dm /= m;
  double sxy = 0, sxx = 0;
  for (int i = 0; i < m; ++i) {
    const double l = spread[i] - lm;
    sxy += l * ((spread[i + 1] - spread[i]) - dm);
    sxx += l * l;
  }
  if (!(sxx > 0)) return Status(StatusCode::kNumerical, "spread is constant");
  const double beta = sxy / sxx;
  if (beta >= 0) {
    return Status(StatusCode::kNumerical,
                  "spread is not mean-reverting (beta = " + std::to_string(beta) + " >= 0)");
  }
  if (beta <= -1) {
    return Status(StatusCode::kNumerical, "half-life undefined: spread over-reverts (beta = " +
                                              std::to_string(beta) + " <= -1)");
  }
  return -std::log(2.0) / std::log1p(beta);
}

}  // namespace pairflow::stats
