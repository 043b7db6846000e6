#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "pairs/pair_model.h"

namespace pairflow::pairs {
namespace {

PairModelConfig config(int window) {
  PairModelConfig c;
  c.window = window;
  return c;
}

// log y = 0.5 + 2 log x + small alternating noise; x trends so the fit is well posed.
void seed_linear(PairModel& model, int n) {
  std::vector<double> ly, lx;
  for (int i = 0; i < n; ++i) {
    double x = std::log(100 + i);
    lx.push_back(x);
    ly.push_back(0.5 + 2 * x + (i % 2 ? 0.001 : -0.001));
  }
  model.seed(ly, lx);
}

TEST(PairModel, NoSignalBeforeWindowIsFull) {
  PairModel model(0, config(10));
  for (int i = 0; i < 10; ++i) {
    Signal s = model.on_bar(i, std::log(10 + i), std::log(5 + i));
    EXPECT_TRUE(std::isnan(s.z));
    EXPECT_EQ(s.action, SignalAction::kHold);
  }
  Signal s = model.on_bar(11, std::log(21.0), std::log(16.0));
  EXPECT_TRUE(std::isfinite(s.z));
}

TEST(PairModel, RecoversHedgeRatioAndTradesTheCycle) {
  PairModel model(3, config(40));
  seed_linear(model, 40);
  const double x = std::log(140.0);
  // Spread far below: enter long.
  Signal s = model.on_bar(1, 0.5 + 2 * x - 0.004, x);
  EXPECT_NEAR(s.hedge_ratio, 2.0, 1e-3);
  EXPECT_EQ(s.pair, 3u);
  EXPECT_LT(s.z, -2);
  EXPECT_EQ(s.action, SignalAction::kEnterLong);
  EXPECT_EQ(model.state(), PairState::kLongSpread);
  // Still diverged: hold.
  s = model.on_bar(2, 0.5 + 2 * x - 0.003, x);
  EXPECT_EQ(s.action, SignalAction::kHold);
  // Back to the mean: exit.
  s = model.on_bar(3, 0.5 + 2 * x, x);
  EXPECT_EQ(s.action, SignalAction::kExit);
  EXPECT_EQ(model.state(), PairState::kFlat);
}

TEST(PairModel, StopThenCooldownUntilSpreadNormalises) {
  PairModel model(0, config(40));
  seed_linear(model, 40);
  const double x = std::log(140.0);
  ASSERT_EQ(model.on_bar(1, 0.5 + 2 * x + 0.0035, x).action, SignalAction::kEnterShort);
  EXPECT_EQ(model.on_bar(2, 0.5 + 2 * x + 0.05, x).action, SignalAction::kStop);
  // Diverged again but cooling down: no re-entry until |z| <= exit_z.
  EXPECT_EQ(model.on_bar(3, 0.5 + 2 * x + 0.0035, x).action, SignalAction::kHold);
}

TEST(PairModel, EntryBeyondStopIsRefused) {
  PairModel model(0, config(40));
  seed_linear(model, 40);
  const double x = std::log(140.0);
  Signal s = model.on_bar(1, 0.5 + 2 * x + 0.5, x);
  EXPECT_GT(s.z, 4);
  EXPECT_EQ(s.action, SignalAction::kHold);
}

TEST(PairModel, TimeStop) {
  PairModelConfig c = config(40);
  c.max_hold_bars = 2;
  PairModel model(0, c);
  seed_linear(model, 40);
  const double x = std::log(140.0);
  ASSERT_EQ(model.on_bar(1, 0.5 + 2 * x - 0.0035, x).action, SignalAction::kEnterLong);
  EXPECT_EQ(model.on_bar(2, 0.5 + 2 * x - 0.0035, x).action, SignalAction::kHold);
  EXPECT_EQ(model.on_bar(3, 0.5 + 2 * x - 0.0035, x).action, SignalAction::kStop);
}

}  // namespace
}  // namespace pairflow::pairs
