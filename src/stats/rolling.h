// Online (expanding) and rolling-window mean, variance, covariance and simple OLS with O(1)
// updates. Numerically stable for prices near 1e4 with tiny moves: values are stored relative
// to a reference level (exact by Sterbenz' lemma for nearby doubles), updated Welford-style on
// add and remove, and re-summed exactly from the window every `window` pushes so rounding
// cannot drift.
//
// Thread-safety: value types; one instance per stream, not shared without synchronisation.
#pragma once

#include <cstdint>
#include <vector>

namespace pairflow::stats {

// Expanding mean/variance (Welford).
class OnlineMoments {
 public:
  void push(double x);
  int64_t count() const { return n_; }
  double mean() const { return n_ ? ref_ + mean_ : 0.0; }
  double variance(int ddof = 1) const { return n_ > ddof ? m2_ / (n_ - ddof) : 0.0; }

 private:
  int64_t n_ = 0;
  double ref_ = 0, mean_ = 0, m2_ = 0;
};

// Mean, variances and covariance of (x, y) over the last `window` pushes.
class RollingCovariance {
 public:
  explicit RollingCovariance(int window);
  void push(double x, double y);
  void reset();
  int window() const { return window_; }
  int count() const { return n_; }
  bool full() const { return n_ == window_; }
  double mean_x() const { return ref_x_ + mx_; }
  double mean_y() const { return ref_y_ + my_; }
  double var_x(int ddof = 1) const { return n_ > ddof ? cxx_ / (n_ - ddof) : 0.0; }
  double var_y(int ddof = 1) const { return n_ > ddof ? cyy_ / (n_ - ddof) : 0.0; }
  double cov(int ddof = 1) const { return n_ > ddof ? cxy_ / (n_ - ddof) : 0.0; }
  double corr() const;
  // Centred sums of squares/products over the window.
  double sxx() const { return cxx_; }
  double syy() const { return cyy_; }
  double sxy() const { return cxy_; }

 private:
  void add(double x, double y);
  void remove(double x, double y);
  void rebuild();

  int window_;
  int n_ = 0, head_ = 0, since_rebuild_ = 0;
  std::vector<double> xs_, ys_;  // ring buffer, relative to ref_x_/ref_y_
  double ref_x_ = 0, ref_y_ = 0;
  double mx_ = 0, my_ = 0, cxx_ = 0, cyy_ = 0, cxy_ = 0;
};

// Rolling mean/variance of one series.
class RollingMoments {
 public:
  explicit RollingMoments(int window) : c_(window) {}
  void push(double x) { c_.push(x, 0.0); }
  int count() const { return c_.count(); }
  bool full() const { return c_.full(); }
  double mean() const { return c_.mean_x(); }
  double variance(int ddof = 1) const { return c_.var_x(ddof); }

 private:
  RollingCovariance c_;
};

// Rolling OLS of y on [1, x] over the last `window` pushes.
class RollingOls {
 public:
  explicit RollingOls(int window) : c_(window) {}
  void push(double x, double y) { c_.push(x, y); }
  int count() const { return c_.count(); }
  bool full() const { return c_.full(); }
  // NaN until two distinct x values are in the window.
  double slope() const;
  double intercept() const;
  double r2() const;
  // Residual standard deviation with n - 2 degrees of freedom.
  double resid_std() const;
  const RollingCovariance& moments() const { return c_; }

 private:
  RollingCovariance c_;
};

}  // namespace pairflow::stats
