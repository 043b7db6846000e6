#include "stats/kalman.h"

#include <cmath>
#include <string>

namespace pairflow::stats {

KalmanHedge::KalmanHedge(const KalmanHedgeOptions& options) : options_(options) {
  const auto& c = options.state_cov;
  if (c[0] != 0 || c[1] != 0 || c[2] != 0 || c[3] != 0) {
    for (int i = 0; i < 4; ++i) vw_[i] = c[i];
  } else {
    const double v = options.delta / (1.0 - options.delta);
    vw_[0] = vw_[3] = v;
    vw_[1] = vw_[2] = 0;
  }
  reset();
}

void KalmanHedge::reset() {
  beta_[0] = options_.initial_state[0];
  beta_[1] = options_.initial_state[1];
  for (int i = 0; i < 4; ++i) p_[i] = options_.initial_cov[i];
  first_ = true;
}

Result<KalmanStep> KalmanHedge::update(double x, double y) {
  if (!(options_.delta >= 0 && options_.delta < 1) || !(options_.ve > 0)) {
    return Status(StatusCode::kInvalidArgument, "Kalman options need 0 <= delta < 1 and ve > 0");
  }
  if (!std::isfinite(x) || !std::isfinite(y)) {
    return Status(StatusCode::kInvalidArgument, "Kalman input is not finite");
  }
  // Predict: the state is a random walk, so only the covariance grows.
  double r[4] = {p_[0], p_[1], p_[2], p_[3]};
  if (!first_) {
    for (int i = 0; i < 4; ++i) r[i] += vw_[i];
  }
  // h = [x, 1]; rh = R h; q = h' R h + Ve.
  const double rh0 = r[0] * x + r[1];
  const double rh1 = r[2] * x + r[3];
  const double q = x * rh0 + rh1 + options_.ve;
  const double e = y - (beta_[0] * x + beta_[1]);
  const double k0 = rh0 / q, k1 = rh1 / q;
  // h' R as a row vector: [x r00 + r10, x r01 + r11].
  const double hr0 = x * r[0] + r[2];
  const double hr1 = x * r[1] + r[3];
  beta_[0] += k0 * e;
  beta_[1] += k1 * e;
  p_[0] = r[0] - k0 * hr0;
  p_[1] = r[1] - k0 * hr1;
  p_[2] = r[2] - k1 * hr0;
  p_[3] = r[3] - k1 * hr1;
  first_ = false;
  return KalmanStep{beta_[0], beta_[1], {p_[0], p_[1], p_[2], p_[3]}, e, q};
}

Result<std::vector<KalmanStep>> kalman_hedge(std::span<const double> x, std::span<const double> y,
                                             const KalmanHedgeOptions& options) {
  if (x.size() != y.size()) {
    return Status(StatusCode::kInvalidArgument, "x and y differ in length");
  }
  KalmanHedge filter(options);
  std::vector<KalmanStep> out;
  out.reserve(x.size());
  for (size_t t = 0; t < x.size(); ++t) {
    Result<KalmanStep> step = filter.update(x[t], y[t]);
    if (!step) {
      return Status(step.status().code(), step.status().message() + " at row " + std::to_string(t));
    }
    out.push_back(*step);
  }
  return out;
}

}  // namespace pairflow::stats
