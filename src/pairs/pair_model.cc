#include "pairs/pair_model.h"

#include <cmath>

#include "base/status.h"

namespace pairflow::pairs {

PairModel::PairModel(PairId id, const PairModelConfig& config)
    : id_(id), config_(config), ys_(config.window), xs_(config.window) {
  PAIRFLOW_CHECK(config.window >= 3, "pair model window must be at least 3");
}

void PairModel::push(double log_y, double log_x) {
  ys_[head_] = log_y;
  xs_[head_] = log_x;
  head_ = (head_ + 1) % ys_.size();
  if (filled_ < ys_.size()) ++filled_;
}

void PairModel::seed(std::span<const double> log_y, std::span<const double> log_x) {
  PAIRFLOW_CHECK(log_y.size() == log_x.size(), "seed series differ in length");
  for (std::size_t i = 0; i < log_y.size(); ++i) {
    if (std::isfinite(log_y[i]) && std::isfinite(log_x[i])) push(log_y[i], log_x[i]);
  }
}

bool PairModel::fit() {
  // Two passes over the window (means, then centred sums): exact and free of the cancellation that
  // raw sums of squares suffer on price levels.
  const std::size_t n = filled_;
  double mean_y = 0, mean_x = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mean_y += ys_[i];
    mean_x += xs_[i];
  }
  mean_y /= n;
  mean_x /= n;
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dx = xs_[i] - mean_x, dy = ys_[i] - mean_y;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (!(sxx > 0)) return false;
  hedge_ratio_ = sxy / sxx;
  intercept_ = mean_y - hedge_ratio_ * mean_x;
  const double ssr = std::max(0.0, syy - hedge_ratio_ * sxy);
  resid_sd_ = std::sqrt(ssr / static_cast<double>(n - 2));
  return resid_sd_ > 0 && std::isfinite(resid_sd_);
}

PairModel::SavedState PairModel::save() const {
  return SavedState{ys_, xs_, head_, filled_, state_, cooling_down_, held_bars_};
}

bool PairModel::load(const SavedState& saved) {
  const std::size_t w = ys_.size();
  if (saved.ys.size() != w || saved.xs.size() != w || saved.head >= w || saved.filled > w ||
      saved.held_bars < 0 || static_cast<int>(saved.state) > 2) {
    return false;
  }
  ys_ = saved.ys;
  xs_ = saved.xs;
  head_ = saved.head;
  filled_ = saved.filled;
  state_ = saved.state;
  cooling_down_ = saved.cooling_down;
  held_bars_ = saved.held_bars;
  z_ = kNaN;
  return true;
}

Signal PairModel::on_bar(Timestamp ts, double log_y, double log_x) {
  Signal signal{.ts = ts, .pair = id_};
  const bool ready = filled_ == ys_.size() && fit();
  if (std::isfinite(log_y) && std::isfinite(log_x)) push(log_y, log_x);
  if (!ready) {
    z_ = kNaN;
    return signal;
  }
  z_ = (log_y - intercept_ - hedge_ratio_ * log_x) / resid_sd_;
  signal.z = z_;
  signal.hedge_ratio = hedge_ratio_;
  SpreadPosition position{state_, cooling_down_, held_bars_};
  signal.action = advance(
      position, z_,
      SpreadThresholds{config_.entry_z, config_.exit_z, config_.stop_z, config_.max_hold_bars});
  state_ = position.state;
  cooling_down_ = position.cooling_down;
  held_bars_ = position.held_bars;
  return signal;
}

}  // namespace pairflow::pairs
