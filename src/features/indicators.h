// Streaming indicators: one series (or one symbol's bars) in, one value out per update, O(1) each.
//
// Every kernel's update() returns NaN until the indicator is defined (its warm-up, documented per
// kernel and in docs/features.md) and the value afterwards; ready() says whether the last update
// produced one. Windowed kernels keep running sums anchored near the data and recompute them
// exactly from their window once per window length, so rounding cannot drift over long runs
// (amortised O(1)). Definitions follow pandas (rolling, ddof = 1) and TTR (EMA seeded with the SMA
// of the first n values; RSI and ATR with Wilder smoothing, ratio 1/n). Values match the golden
// files from tests/golden/make_feature_golden.py to 1e-9.
//
// Lifecycle: construct with the parameters (the only allocation), then update per bar. Kernels are
// plain values, one per symbol and indicator, owned by one thread (see IndicatorEngine).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "model/messages.h"

namespace pairflow::features {

// Fixed-length window of the last n values.
class Window {
 public:
  explicit Window(int n = 1) : buf_(static_cast<std::size_t>(n), 0.0) {
    PAIRFLOW_CHECK(n >= 1, "window length must be >= 1");
  }
  std::size_t capacity() const { return buf_.size(); }
  std::size_t size() const { return size_; }
  bool full() const { return size_ == buf_.size(); }
  // The value that push() would evict (valid when full()).
  double oldest() const { return buf_[head_]; }
  // i = 0 is the oldest value in the window.
  double at(std::size_t i) const {
    std::size_t j = head_ + i;
    if (j >= buf_.size()) j -= buf_.size();
    return buf_[j];
  }
  void push(double x) {
    if (size_ < buf_.size()) {
      std::size_t j = head_ + size_;
      if (j >= buf_.size()) j -= buf_.size();
      buf_[j] = x;
      ++size_;
    } else {
      buf_[head_] = x;
      if (++head_ == buf_.size()) head_ = 0;
    }
  }

 private:
  std::vector<double> buf_;
  std::size_t head_ = 0, size_ = 0;
};

// Natural log return of consecutive closes: ln(x_t / x_{t-1}). Warm-up: defined from the 2nd value.
class LogReturn {
 public:
  double update(double x) {
    value_ = std::isnan(prev_) ? kNaN : std::log(x / prev_);
    prev_ = x;
    return value_;
  }
  bool ready() const { return !std::isnan(value_); }
  double value() const { return value_; }

 private:
  double prev_ = kNaN;
  double value_ = kNaN;
};

// Rolling mean, sample standard deviation (ddof = 1) and z-score (x - mean) / std of the last n
// values (pandas rolling(n).mean() / .std()). Warm-up: defined from the n-th value (std and z need
// n >= 2; z is NaN while std is 0).
class RollingMoments {
 public:
  explicit RollingMoments(int n) : window_(n), n_(n) {}
  void update(double x) {
    if (window_.size() == 0) anchor_ = x;
    if (window_.full()) {
      const double old = window_.oldest() - anchor_;
      s1_ -= old;
      s2_ -= old * old;
    }
    window_.push(x);
    const double d = x - anchor_;
    s1_ += d;
    s2_ += d * d;
    if (window_.full() && ++since_recompute_ >= n_) recompute();
  }
  bool ready() const { return window_.full(); }
  double mean() const { return ready() ? anchor_ + s1_ / n_ : kNaN; }
  double variance() const {
    if (!ready() || n_ < 2) return kNaN;
    const double v = (s2_ - s1_ * s1_ / n_) / (n_ - 1);
    return v > 0 ? v : 0.0;
  }
  double stddev() const { return std::sqrt(variance()); }
  double zscore(double x) const {
    const double sd = stddev();
    return sd > 0 ? (x - mean()) / sd : kNaN;
  }

 private:
  void recompute() {
    since_recompute_ = 0;
    double sum = 0;
    for (std::size_t i = 0; i < window_.size(); ++i) sum += window_.at(i);
    anchor_ = sum / n_;
    s1_ = s2_ = 0;
    for (std::size_t i = 0; i < window_.size(); ++i) {
      const double d = window_.at(i) - anchor_;
      s1_ += d;
      s2_ += d * d;
    }
  }

  Window window_;
  int n_;
  int since_recompute_ = 0;
  double anchor_ = 0, s1_ = 0, s2_ = 0;
};

// Simple moving average of the last n values (TTR SMA, pandas rolling(n).mean()).
// Warm-up: defined from the n-th value.
class Sma {
 public:
  explicit Sma(int n) : moments_(n) {}
  double update(double x) {
    moments_.update(x);
    return moments_.mean();
  }
  bool ready() const { return moments_.ready(); }

 private:
  RollingMoments moments_;
};

// Exponential moving average as TTR's EMA: ratio 2 / (n + 1), or 1 / n with wilder; the first
// value, at the n-th input, is the SMA of the first n inputs; then v = x * ratio + v * (1 - ratio).
// NaN inputs before the first value are skipped (TTR skips leading NAs). Warm-up: n values.
class Ema {
 public:
  explicit Ema(int n, bool wilder = false) : n_(n), ratio_(wilder ? 1.0 / n : 2.0 / (n + 1.0)) {
    PAIRFLOW_CHECK(n >= 1, "EMA length must be >= 1");
  }
  double update(double x) {
    if (seen_ < n_) {
      if (std::isnan(x)) return kNaN;
      sum_ += x;
      if (++seen_ < n_) return kNaN;
      value_ = sum_ / n_;
      return value_;
    }
    value_ = x * ratio_ + value_ * (1.0 - ratio_);
    return value_;
  }
  bool ready() const { return seen_ >= n_; }
  double value() const { return ready() ? value_ : kNaN; }

 private:
  int n_;
  double ratio_;
  int seen_ = 0;
  double sum_ = 0;
  double value_ = kNaN;
};

// EWMA volatility of log returns (zero mean): sqrt(EMA_n(r^2)) with the EMA above (ratio
// 2 / (n + 1), seeded with the mean of the first n squared returns). Input: closes.
// Warm-up: n returns, i.e. defined from the (n + 1)-th close.
class EwmaVol {
 public:
  explicit EwmaVol(int n) : ema_(n) {}
  double update(double close) {
    const double r = ret_.update(close);
    if (std::isnan(r)) return kNaN;
    return std::sqrt(ema_.update(r * r));
  }
  double update_return(double r) { return std::isnan(r) ? kNaN : std::sqrt(ema_.update(r * r)); }
  bool ready() const { return ema_.ready(); }

 private:
  LogReturn ret_;
  Ema ema_;
};

// Relative strength index as TTR's RSI(n) defaults: up/down moves of consecutive closes, each
// smoothed by a Wilder EMA seeded with the mean of the first n moves; RSI = 100 * up / (up + down)
// (NaN when both are 0, as in TTR). Input: closes. Warm-up: defined from the (n + 1)-th close.
class Rsi {
 public:
  explicit Rsi(int n) : up_(n, true), down_(n, true) {}
  double update(double close) {
    if (std::isnan(prev_)) {
      prev_ = close;
      return kNaN;
    }
    const double m = close - prev_;
    prev_ = close;
    const double u = up_.update(m > 0 ? m : 0.0);
    const double d = down_.update(m < 0 ? -m : 0.0);
    if (std::isnan(u)) return kNaN;
    return 100.0 * u / (u + d);
  }
  bool ready() const { return up_.ready(); }

 private:
  double prev_ = kNaN;
  Ema up_, down_;
};

// Average true range as TTR's ATR(n) defaults: TR_t = max(high_t, close_{t-1}) -
// min(low_t, close_{t-1}) (undefined for the first bar), smoothed by a Wilder EMA seeded with the
// mean of the first n true ranges. Warm-up: defined from the (n + 1)-th bar.
class Atr {
 public:
  explicit Atr(int n) : ema_(n, true) {}
  double update(double high, double low, double close) {
    double out = kNaN;
    if (!std::isnan(prev_close_)) {
      const double tr = std::max(high, prev_close_) - std::min(low, prev_close_);
      out = ema_.update(tr);
    }
    prev_close_ = close;
    return out;
  }
  bool ready() const { return ema_.ready(); }

 private:
  double prev_close_ = kNaN;
  Ema ema_;
};

// Rolling Hurst exponent of the last w levels (pass log prices), by the variance method of
// stats::hurst (HurstMethod::kVariance with its default lags tau = 2 .. max(3, min(100, w / 10))):
// the slope of 0.5 * log(mean squared deviation of x_{t+tau} - x_t) on log tau. Each lag keeps
// running sums of its differences inside the window, so an update costs O(number of lags),
// independent of w. Equals stats::hurst on the same window (tested). Needs w >= 32.
// Warm-up: defined from the w-th level.
class RollingHurst {
 public:
  explicit RollingHurst(int w);
  double update(double level);
  bool ready() const { return count_ >= w_; }
  int min_lag() const { return lo_; }
  int max_lag() const { return hi_; }

 private:
  double level_at_back(int k) const;  // k = 0: newest
  void recompute();

  int w_, lo_, hi_;
  Window levels_;  // the last w + 1 levels
  std::int64_t count_ = 0;
  int since_recompute_ = 0;
  std::vector<double> s1_, s2_, log_tau_;
};

// Rolling Pearson correlation of the last n pairs (x, y) (pandas rolling(n).corr()).
// Warm-up: defined from the n-th pair; NaN while either side is constant.
class RollingCorrelation {
 public:
  explicit RollingCorrelation(int n) : x_(n), y_(n), n_(n) {
    PAIRFLOW_CHECK(n >= 2, "correlation window must be >= 2");
  }
  double update(double x, double y);
  bool ready() const { return x_.full(); }

 private:
  void recompute();

  Window x_, y_;
  int n_;
  int since_recompute_ = 0;
  double ax_ = 0, ay_ = 0;
  double sx_ = 0, sy_ = 0, sxx_ = 0, syy_ = 0, sxy_ = 0;
};

}  // namespace pairflow::features
