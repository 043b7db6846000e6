#include "stats/rolling.h"

#include <cmath>
#include <limits>

#include "base/status.h"

namespace pairflow::stats {

void OnlineMoments::push(double x) {
  if (n_ == 0) ref_ = x;  // later values are taken relative to the first: exact when close
  const double v = x - ref_;
  ++n_;
  const double d = v - mean_;
  mean_ += d / n_;
  m2_ += d * (v - mean_);
}

RollingCovariance::RollingCovariance(int window) : window_(window) {
  PAIRFLOW_CHECK(window >= 1, "rolling window must be >= 1");
  xs_.resize(window);
  ys_.resize(window);
}

void RollingCovariance::reset() {
  n_ = head_ = since_rebuild_ = 0;
  ref_x_ = ref_y_ = mx_ = my_ = cxx_ = cyy_ = cxy_ = 0;
}

void RollingCovariance::add(double x, double y) {
  ++n_;
  const double dx = x - mx_, dy = y - my_;
  mx_ += dx / n_;
  my_ += dy / n_;
  cxx_ += dx * (x - mx_);
  cyy_ += dy * (y - my_);
  cxy_ += dx * (y - my_);
}

void RollingCovariance::remove(double x, double y) {
  // Exact inverse of add(): recover the old means, then undo the co-moment increment.
  const double my_old = my_;
  --n_;
  if (n_ == 0) {
    mx_ = my_ = cxx_ = cyy_ = cxy_ = 0;
    return;
  }
  const double mx_old = mx_;
  mx_ -= (x - mx_) / n_;
  my_ -= (y - my_) / n_;
  cxx_ -= (x - mx_) * (x - mx_old);
  cyy_ -= (y - my_) * (y - my_old);
  cxy_ -= (x - mx_) * (y - my_old);
  if (cxx_ < 0) cxx_ = 0;
  if (cyy_ < 0) cyy_ = 0;
}

void RollingCovariance::rebuild() {
  // Re-reference to the current window mean and re-sum two-pass: bounds accumulated rounding.
  const double new_rx = ref_x_ + mx_, new_ry = ref_y_ + my_;
  const double sx = ref_x_ - new_rx, sy = ref_y_ - new_ry;
  double mx = 0, my = 0;
  for (int i = 0; i < n_; ++i) {
    xs_[i] += sx;
    ys_[i] += sy;
    mx += xs_[i];
    my += ys_[i];
  }
  mx /= n_;
  my /= n_;
  double cxx = 0, cyy = 0, cxy = 0;
  for (int i = 0; i < n_; ++i) {
    const double dx = xs_[i] - mx, dy = ys_[i] - my;
    cxx += dx * dx;
    cyy += dy * dy;
    cxy += dx * dy;
  }
  ref_x_ = new_rx;
  ref_y_ = new_ry;
  mx_ = mx;
  my_ = my;
  cxx_ = cxx;
  cyy_ = cyy;
  cxy_ = cxy;
  since_rebuild_ = 0;
}

void RollingCovariance::push(double x, double y) {
  if (n_ == 0 && since_rebuild_ == 0) {
    ref_x_ = x;
    ref_y_ = y;
  }
  const double rx = x - ref_x_, ry = y - ref_y_;
  if (n_ == window_) {
    remove(xs_[head_], ys_[head_]);
  }
  xs_[head_] = rx;
  ys_[head_] = ry;
  head_ = (head_ + 1) % window_;
  add(rx, ry);
  if (++since_rebuild_ >= window_) rebuild();
}

double RollingCovariance::corr() const {
  const double d = std::sqrt(cxx_ * cyy_);
  return d > 0 ? cxy_ / d : std::numeric_limits<double>::quiet_NaN();
}

double RollingOls::slope() const {
  const double sxx = c_.sxx();
  return sxx > 0 ? c_.sxy() / sxx : std::numeric_limits<double>::quiet_NaN();
}

double RollingOls::intercept() const { return c_.mean_y() - slope() * c_.mean_x(); }

double RollingOls::r2() const {
  const double sxx = c_.sxx(), syy = c_.syy();
  if (!(sxx > 0) || !(syy > 0)) return std::numeric_limits<double>::quiet_NaN();
  return c_.sxy() * c_.sxy() / (sxx * syy);
}

double RollingOls::resid_std() const {
  const int n = c_.count();
  const double sxx = c_.sxx();
  if (n < 3 || !(sxx > 0)) return std::numeric_limits<double>::quiet_NaN();
  const double ssr = std::fmax(0.0, c_.syy() - c_.sxy() * c_.sxy() / sxx);
  return std::sqrt(ssr / (n - 2));
}

}  // namespace pairflow::stats
