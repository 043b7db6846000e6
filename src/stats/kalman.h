// Kalman-filter dynamic hedge ratio, Chan's formulation (Algorithmic Trading, 2013, ex. 3.3):
// state beta_t = [slope, intercept] follows a random walk with covariance Vw = delta/(1-delta) I,
// and y_t = slope_t x_t + intercept_t + e_t with Var(e_t) = Ve.
//
// Thread-safety: KalmanHedge is a small value type with no shared state; one instance per
// stream, not shared between threads without synchronisation. kalman_hedge() is thread-safe.
#pragma once

#include <array>
#include <span>
#include <vector>

#include "base/status.h"

namespace pairflow::stats {

struct KalmanHedgeOptions {
  double delta = 1e-4;  // state noise: Vw = delta / (1 - delta) * I, 0 <= delta < 1
  double ve = 1e-3;     // observation noise variance, > 0
  std::array<double, 2> initial_state{0.0, 0.0};          // [slope, intercept]
  std::array<double, 4> initial_cov{0.0, 0.0, 0.0, 0.0};  // row-major 2x2
  // When set (any non-zero entry): the state noise Vw, row-major 2x2, instead of delta/(1-delta) I.
  // Lets a caller scale the noise to its coefficients' units (the pair actors use
  // delta/(1-delta) times the OLS covariance of the coefficients).
  std::array<double, 4> state_cov{0.0, 0.0, 0.0, 0.0};
};

struct KalmanStep {
  double slope, intercept;    // filtered state after observing (x_t, y_t)
  std::array<double, 4> cov;  // filtered state covariance P_t, row-major 2x2
  double e;                   // forecast error y_t - (slope_{t-1} x_t + intercept_{t-1})
  double q;                   // forecast error variance x' R x + Ve
};

class KalmanHedge {
 public:
  explicit KalmanHedge(const KalmanHedgeOptions& options = {});
  // One predict + update step. As in Chan's code, the first step does not add Vw to the prior
  // covariance (R_0 = P_0), later steps use R_t = P_{t-1} + Vw. Errors on NaN/inf input or
  // bad options; the state is left unchanged on error.
  Result<KalmanStep> update(double x, double y);
  void reset();
  const KalmanHedgeOptions& options() const { return options_; }

  // Everything update() carries from one step to the next, for checkpoints.
  struct State {
    std::array<double, 2> beta{};
    std::array<double, 4> p{};
    bool first = true;
    double ve = 0;  // the observation noise in use (it may have been calibrated from data)
    std::array<double, 4> vw{};  // the state noise in use
  };
  State state() const {
    return {{beta_[0], beta_[1]},
            {p_[0], p_[1], p_[2], p_[3]},
            first_,
            options_.ve,
            {vw_[0], vw_[1], vw_[2], vw_[3]}};
  }
  void set_state(const State& s) {
    beta_[0] = s.beta[0];
    beta_[1] = s.beta[1];
    for (int i = 0; i < 4; ++i) p_[i] = s.p[i];
    first_ = s.first;
    if (s.ve > 0) options_.ve = s.ve;
    for (int i = 0; i < 4; ++i) vw_[i] = s.vw[i];
  }

 private:
  KalmanHedgeOptions options_;
  double vw_[4];
  double beta_[2];
  double p_[4];
  bool first_ = true;
};

// Runs the filter over whole series (same length).
Result<std::vector<KalmanStep>> kalman_hedge(std::span<const double> x, std::span<const double> y,
                                             const KalmanHedgeOptions& options = {});

}  // namespace pairflow::stats
