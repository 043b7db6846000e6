#include "stats/adf.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "stats/internal/nested_fit.h"
#include "stats/mackinnon.h"

namespace pairflow::stats {
namespace {

// Below this min R_jj^2/||c_j||^2 the Gram route (error ~ eps * cond^2) hands over to QR; the
// same bound applies to SSR/||y||^2, since the Gram route gets SSR by subtraction.
constexpr double kGramMinRelPivot = 1e-6;
// Below this the design is treated as rank deficient (cf. numpy matrix_rank's tolerance).
constexpr double kCollinearRelPivot = 1e-24;
// statsmodels' 5% one-sided normal quantile for the t-stat rule.
constexpr double kTStatStop = 1.6448536269514722;

Status collinear() { return Status(StatusCode::kNumerical, "regressors are perfectly collinear"); }

}  // namespace

Status validate_series(std::span<const double> x, const char* name) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      return Status(StatusCode::kInvalidArgument, std::string(name) + " contains " +
                                                      (std::isnan(x[i]) ? "NaN" : "inf") +
                                                      " at row " + std::to_string(i));
    }
  }
  if (!x.empty()) {
    const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    if (*lo == *hi) return Status(StatusCode::kNumerical, std::string(name) + " is constant");
  }
  return Status::success();
}

struct AdfWorkspace::Fit {
  internal::NestedView view;
};

Result<AdfResult> adf(std::span<const double> x, const AdfOptions& options) {
  thread_local AdfWorkspace workspace;
  return workspace.run(x, options);
}

Result<AdfResult> AdfWorkspace::run(std::span<const double> x, const AdfOptions& options) {
  if (Status s = validate_series(x, "series"); !s) return s;
  Result<AdfResult> r = run_unchecked(x, options);
  if (!r) return r;
  r->pvalue = mackinnon_pvalue(r->stat, options.trend, 1);
  const auto crit = mackinnon_crit(options.trend, 1, r->nobs);
  std::copy(crit.begin(), crit.end(), r->crit);
  return r;
}

Result<AdfResult> AdfWorkspace::run_unchecked(std::span<const double> x,
                                              const AdfOptions& options) {
  const int n = static_cast<int>(x.size());
  const int nt = trend_terms(options.trend);
  trend_ = options.trend;
  int maxlag;
  if (!options.maxlag) {
    // Schwert's rule, capped so that half the sample remains (as statsmodels does).
    maxlag = static_cast<int>(std::ceil(12.0 * std::pow(n / 100.0, 0.25)));
    maxlag = std::min(n / 2 - nt - 1, maxlag);
    if (maxlag < 0) {
      return Status(StatusCode::kInsufficientData,
                    "need at least " + std::to_string(2 * (nt + 1)) + " observations for trend '" +
                        trend_name(options.trend) + "', got " + std::to_string(n));
    }
  } else {
    maxlag = *options.maxlag;
    if (maxlag < 0) {
      return Status(StatusCode::kInvalidArgument,
                    "maxlag must be non-negative, got " + std::to_string(maxlag));
    }
    if (maxlag > n / 2 - nt - 1) {
      return Status(StatusCode::kInsufficientData,
                    "need at least " + std::to_string(2 * (maxlag + nt + 1)) +
                        " observations for maxlag " + std::to_string(maxlag) + " with trend '" +
                        trend_name(options.trend) + "', got " + std::to_string(n));
    }
  }
  // The widest regression (maxlag lags on n-1-maxlag rows) must keep a residual degree of freedom.
  const int need = 2 * maxlag + nt + 3;
  if (n < need) {
    return Status(StatusCode::kInsufficientData,
                  "need at least " + std::to_string(need) + " observations for maxlag " +
                      std::to_string(maxlag) + " with trend '" + trend_name(options.trend) +
                      "', got " + std::to_string(n));
  }

  const int m = n - 1;
  // With a constant in the model, shifting the level and the differences by constants leaves
  // every slope, residual and t-value unchanged but removes the cancellation that prices near
  // 1e4 would otherwise cause in the cross products.
  xs_.resize(n);
  d_.resize(m);
  double xmean = 0, dmean = 0;
  if (nt > 0) {
    for (double v : x) xmean += v;
    xmean /= n;
    dmean = (x[n - 1] - x[0]) / m;
  }
  for (int i = 0; i < n; ++i) xs_[i] = x[i] - xmean;
  for (int i = 0; i < m; ++i) d_[i] = (x[i + 1] - x[i]) - dmean;
  if (nt > 0) {
    prefix_.resize(m + 1);
    prefix_[0] = 0;
    for (int i = 0; i < m; ++i) prefix_[i + 1] = prefix_[i] + d_[i];
  }

  AdfResult out{};
  out.maxlag = maxlag;
  int usedlag = maxlag;
  Fit fit;
  if (options.autolag != AutoLag::kNone) {
    const int nobs = m - maxlag;
    if (!fit_nested(maxlag, nobs, /*level_last=*/false, true, &fit)) return collinear();
    const auto& v = fit.view;
    const int start = nt + 1;  // columns in the lag-0 model
    if (options.autolag == AutoLag::kTStat) {
      usedlag = 0;
      out.icbest = 0;
      for (int lag = maxlag; lag >= 0; --lag) {
        const int p = start + lag;
        out.icbest = std::fabs(v.t_last(p, v.ssr(p)));
        usedlag = lag;
        if (out.icbest >= kTStatStop) break;
      }
    } else {
      const double half = nobs / 2.0;
      const double penalty = options.autolag == AutoLag::kAic ? 2.0 : std::log(double(nobs));
      double best = 0;
      double ssr = v.ssr_full;
      // Walk down from the widest model so each SSR is one addition away from the last.
      std::vector<double>& ic = ic_;
      ic.resize(maxlag + 1);
      for (int lag = maxlag; lag >= 0; --lag) {
        const int p = start + lag;
        if (lag < maxlag) ssr += v.qty[p] * v.qty[p];
        const double llf =
            -half * std::log(2 * std::numbers::pi) - half * std::log(ssr / nobs) - half;
        ic[lag] = -2 * llf + penalty * p;
      }
      usedlag = 0;
      best = ic[0];
      for (int lag = 1; lag <= maxlag; ++lag) {
        if (ic[lag] < best) {  // ties keep the smaller lag, as Python's min over (ic, lag)
          best = ic[lag];
          usedlag = lag;
        }
      }
      out.icbest = best;
    }
  }
  const int nobs = m - usedlag;
  if (!fit_nested(usedlag, nobs, /*level_last=*/true, true, &fit)) return collinear();
  const int k = nt + 1 + usedlag;
  if (!(fit.view.ssr_full > 0)) {
    return Status(StatusCode::kNumerical, "ADF regression fits exactly (zero residuals)");
  }
  out.stat = fit.view.t_last(k, fit.view.ssr_full);
  out.usedlag = usedlag;
  out.nobs = nobs;
  return out;
}

// Builds the design for rows t = nlags .. m-1 (r = t - nlags) with columns
//   [const, tau, tau^2][:nt], then level x_t and lags d_{t-1..t-nlags} (level last if asked),
// regressand d_t, and factors it with the fast Gram route or, if ill-conditioned, with QR.
bool AdfWorkspace::fit_nested(int nlags, int nobs, bool level_last, bool allow_gram, Fit* fit) {
  const int nt = trend_terms(trend_);
  const int k = nt + 1 + nlags;
  const int k1 = k + 1;
  const int t0 = nlags;
  const int m = t0 + nobs;
  const double* d = d_.data();
  const double* xs = xs_.data();
  const int level_col = level_last ? nt + nlags : nt;
  auto lag_col = [&](int j) { return j == 0 ? k : (level_last ? nt + j - 1 : nt + j); };
  r_diag_.resize(k);
  qty_.resize(k);

  if (allow_gram) {
    gram_.assign(static_cast<size_t>(k1) * k1, 0.0);
    double* g = gram_.data();
    auto set = [&](int i, int j, double v) {
      g[i + j * k1] = v;
      g[j + i * k1] = v;
    };
    auto get = [&](int i, int j) { return g[i + j * k1]; };
    // Lag block (lag 0 = regressand): first row directly, the rest by sliding the window one
    // step per diagonal, so the whole block costs O(n * nlags) rather than O(n * nlags^2).
    for (int kk = 0; kk <= nlags; ++kk) {
      const double* a = d + t0;
      const double* b = d + t0 - kk;
      double s = 0;
      for (int r = 0; r < nobs; ++r) s += a[r] * b[r];
      set(lag_col(0), lag_col(kk), s);
    }
    for (int j = 0; j < nlags; ++j) {
      for (int kk = j; kk < nlags; ++kk) {
        const double s = get(lag_col(j), lag_col(kk)) + d[t0 - 1 - j] * d[t0 - 1 - kk] -
                         d[m - 1 - j] * d[m - 1 - kk];
        set(lag_col(j + 1), lag_col(kk + 1), s);
      }
    }
    // Level against itself and every lag.
    {
      const double* a = xs + t0;
      double s = 0;
      for (int r = 0; r < nobs; ++r) s += a[r] * a[r];
      set(level_col, level_col, s);
      for (int kk = 0; kk <= nlags; ++kk) {
        const double* b = d + t0 - kk;
        double c = 0;
        for (int r = 0; r < nobs; ++r) c += a[r] * b[r];
        set(level_col, lag_col(kk), c);
      }
    }
    if (nt >= 1) {
      const double* p = prefix_.data();
      set(0, 0, nobs);
      for (int kk = 0; kk <= nlags; ++kk) set(0, lag_col(kk), p[m - kk] - p[t0 - kk]);
      double s = 0;
      for (int r = 0; r < nobs; ++r) s += xs[t0 + r];
      set(0, level_col, s);
    }
    for (int q = 1; q < nt; ++q) {
      // Centred trend powers: span{1, tau, tau^2} = span{1, t, t^2}, better conditioned.
      const double c = (nobs + 1) / 2.0;
      auto tau = [&](int r, int pow) {
        const double u = r + 1 - c;
        return pow == 1 ? u : u * u;
      };
      for (int q2 = 0; q2 <= q; ++q2) {
        double s = 0;
        for (int r = 0; r < nobs; ++r) s += tau(r, q) * (q2 == 0 ? 1.0 : tau(r, q2));
        set(q, q2, s);
      }
      double s = 0;
      for (int r = 0; r < nobs; ++r) s += tau(r, q) * xs[t0 + r];
      set(q, level_col, s);
      for (int kk = 0; kk <= nlags; ++kk) {
        const double* b = d + t0 - kk;
        double acc = 0;
        for (int r = 0; r < nobs; ++r) acc += tau(r, q) * b[r];
        set(q, lag_col(kk), acc);
      }
    }
    if (internal::nested_from_gram(g, k, nobs, r_diag_.data(), qty_.data(), &fit->view) &&
        fit->view.min_rel_pivot >= kGramMinRelPivot && fit->view.rel_ssr >= kGramMinRelPivot) {
      return true;
    }
  }

  // QR route: explicit design, Householder, accurate to eps * cond.
  design_.resize(static_cast<size_t>(nobs) * k);
  y_.resize(nobs);
  auto col = [&](int c) { return design_.data() + static_cast<size_t>(c) * nobs; };
  const double c = (nobs + 1) / 2.0;
  for (int r = 0; r < nobs; ++r) {
    if (nt >= 1) col(0)[r] = 1.0;
    if (nt >= 2) col(1)[r] = r + 1 - c;
    if (nt >= 3) col(2)[r] = (r + 1 - c) * (r + 1 - c);
    col(level_col)[r] = xs[t0 + r];
    y_[r] = d[t0 + r];
  }
  for (int j = 1; j <= nlags; ++j) std::copy(d + t0 - j, d + t0 - j + nobs, col(lag_col(j)));
  if (!internal::nested_from_qr(design_.data(), nobs, k, y_.data(), r_diag_.data(), qty_.data(),
                                &fit->view)) {
    return false;
  }
  return fit->view.min_rel_pivot >= kCollinearRelPivot;
}

}  // namespace pairflow::stats
