#include "features/indicators.h"

#include <algorithm>

namespace pairflow::features {

RollingHurst::RollingHurst(int w) : w_(w), levels_(std::max(w, 1)) {
  PAIRFLOW_CHECK(w >= 32, "rolling Hurst window must be >= 32");
  lo_ = 2;
  hi_ = std::max(lo_ + 1, std::min(100, w / 10));
  const int lags = hi_ - lo_ + 1;
  s1_.assign(lags, 0.0);
  s2_.assign(lags, 0.0);
  log_tau_.resize(lags);
  for (int tau = lo_; tau <= hi_; ++tau) log_tau_[tau - lo_] = std::log(static_cast<double>(tau));
}

double RollingHurst::level_at_back(int k) const {
  return levels_.at(levels_.size() - 1 - static_cast<std::size_t>(k));
}

double RollingHurst::update(double level) {
  const std::int64_t c = count_;  // levels seen before this one
  for (int tau = lo_; tau <= hi_; ++tau) {
    const int i = tau - lo_;
    if (c >= tau) {
      const double d = level - level_at_back(tau - 1);
      s1_[i] += d;
      s2_[i] += d * d;
    }
    if (c >= w_) {
      const double d = level_at_back(w_ - 1 - tau) - level_at_back(w_ - 1);
      s1_[i] -= d;
      s2_[i] -= d * d;
    }
  }
  levels_.push(level);
  ++count_;
  if (count_ < w_) return kNaN;
  if (++since_recompute_ >= w_) recompute();
  // Least-squares slope of y = 0.5 log(ss / m) on x = log tau, two-pass as stats::hurst.
  double xs[101], ys[101];
  int k = 0;
  for (int tau = lo_; tau <= hi_; ++tau) {
    const int i = tau - lo_;
    const double m = w_ - tau;
    const double ss = s2_[i] - s1_[i] * s1_[i] / m;
    if (!(ss > 0)) continue;
    xs[k] = log_tau_[i];
    ys[k] = 0.5 * std::log(ss / m);
    ++k;
  }
  if (k < 2) return kNaN;
  double mx = 0, my = 0;
  for (int j = 0; j < k; ++j) {
    mx += xs[j];
    my += ys[j];
  }
  mx /= k;
  my /= k;
  double sxx = 0, sxy = 0;
  for (int j = 0; j < k; ++j) {
    sxx += (xs[j] - mx) * (xs[j] - mx);
    sxy += (xs[j] - mx) * (ys[j] - my);
  }
  return sxy / sxx;
}

void RollingHurst::recompute() {
  since_recompute_ = 0;
  for (int tau = lo_; tau <= hi_; ++tau) {
    const int i = tau - lo_;
    // The window holds exactly w levels here: at(0) is the oldest.
    double a = 0, b = 0;
    for (int j = tau; j < w_; ++j) {
      const double d = levels_.at(j) - levels_.at(j - tau);
      a += d;
      b += d * d;
    }
    s1_[i] = a;
    s2_[i] = b;
  }
}

double RollingCorrelation::update(double x, double y) {
  if (x_.size() == 0) {
    ax_ = x;
    ay_ = y;
  }
  if (x_.full()) {
    const double ox = x_.oldest() - ax_, oy = y_.oldest() - ay_;
    sx_ -= ox;
    sy_ -= oy;
    sxx_ -= ox * ox;
    syy_ -= oy * oy;
    sxy_ -= ox * oy;
  }
  x_.push(x);
  y_.push(y);
  const double dx = x - ax_, dy = y - ay_;
  sx_ += dx;
  sy_ += dy;
  sxx_ += dx * dx;
  syy_ += dy * dy;
  sxy_ += dx * dy;
  if (!x_.full()) return kNaN;
  if (++since_recompute_ >= n_) recompute();
  const double cxx = sxx_ - sx_ * sx_ / n_;
  const double cyy = syy_ - sy_ * sy_ / n_;
  const double cxy = sxy_ - sx_ * sy_ / n_;
  if (!(cxx > 0) || !(cyy > 0)) return kNaN;
  return cxy / std::sqrt(cxx * cyy);
}

void RollingCorrelation::recompute() {
  since_recompute_ = 0;
  double mx = 0, my = 0;
  for (int i = 0; i < n_; ++i) {
    mx += x_.at(i);
    my += y_.at(i);
  }
  ax_ = mx / n_;
  ay_ = my / n_;
  sx_ = sy_ = sxx_ = syy_ = sxy_ = 0;
  for (int i = 0; i < n_; ++i) {
    const double dx = x_.at(i) - ax_, dy = y_.at(i) - ay_;
    sx_ += dx;
    sy_ += dy;
    sxx_ += dx * dx;
    syy_ += dy * dy;
    sxy_ += dx * dy;
  }
}

}  // namespace pairflow::features
