// Rolling/online moments against batch two-pass recomputation, including prices near 1e4 with
// tiny moves, where naive sum/sum-of-squares updates lose every digit.
#include "stats/rolling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace pairflow::stats {
namespace {

struct Batch {
  double mx, my, vx, vy, cxy;
};

Batch batch(const std::vector<double>& x, const std::vector<double>& y, size_t end, size_t w) {
  const size_t start = end > w ? end - w : 0;
  const double n = static_cast<double>(end - start);
  // Two-pass in long double: the reference answer.
  long double mx = 0, my = 0;
  for (size_t i = start; i < end; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  long double sxx = 0, syy = 0, sxy = 0;
  for (size_t i = start; i < end; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  return {double(mx), double(my), double(sxx / (n - 1)), double(syy / (n - 1)),
          double(sxy / (n - 1))};
}

TEST(Rolling, PricesNear1e4WithTinyMoves) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> z;
  const int n = 20000, w = 250;
  std::vector<double> x(n), y(n);
  double px = 1e4, py = 1.2e4;
  for (int i = 0; i < n; ++i) {
    px += 1e-4 * z(rng);
    py = 1.2 * px + 5e-5 * z(rng) + 2000;
    x[i] = px;
    y[i] = py;
  }
  RollingCovariance rc(w);
  RollingOls ro(w);
  RollingMoments rm(w);
  for (int i = 0; i < n; ++i) {
    rc.push(x[i], y[i]);
    ro.push(x[i], y[i]);
    rm.push(x[i]);
    if (i < 2 || (i % 97 != 0 && i < n - 3)) continue;
    const Batch b = batch(x, y, i + 1, w);
    EXPECT_NEAR(rc.mean_x(), b.mx, 1e-12 * b.mx);
    EXPECT_NEAR(rc.mean_y(), b.my, 1e-12 * b.my);
    EXPECT_NEAR(rc.var_x(), b.vx, 1e-9 * b.vx) << i;
    EXPECT_NEAR(rc.var_y(), b.vy, 1e-9 * b.vy) << i;
    EXPECT_NEAR(rc.cov(), b.cxy, 1e-9 * std::fabs(b.cxy)) << i;
    EXPECT_NEAR(rm.variance(), b.vx, 1e-9 * b.vx);
    EXPECT_NEAR(ro.slope(), b.cxy / b.vx, 1e-8 * std::fabs(b.cxy / b.vx)) << i;
    const double intercept = b.my - (b.cxy / b.vx) * b.mx;
    EXPECT_NEAR(ro.intercept(), intercept, 1e-8 * std::fabs(b.mx)) << i;
  }
}

TEST(Rolling, WindowOfOneAndPartialWindows) {
  RollingCovariance rc(1);
  rc.push(5, 7);
  EXPECT_EQ(rc.mean_x(), 5);
  rc.push(6, 9);
  EXPECT_EQ(rc.count(), 1);
  EXPECT_EQ(rc.mean_y(), 9);
  EXPECT_EQ(rc.var_x(), 0);
  RollingOls ro(10);
  ro.push(1, 1);
  EXPECT_TRUE(std::isnan(ro.slope()));
  ro.push(2, 3);
  ro.push(3, 5);
  EXPECT_NEAR(ro.slope(), 2.0, 1e-15);
  EXPECT_NEAR(ro.intercept(), -1.0, 1e-14);
  EXPECT_NEAR(ro.r2(), 1.0, 1e-15);
}

TEST(Online, ExpandingMatchesBatch) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z;
  OnlineMoments m;
  std::vector<double> x;
  double p = 1e4;
  for (int i = 0; i < 100000; ++i) {
    p += 1e-4 * z(rng);
    x.push_back(p);
    m.push(p);
  }
  const Batch b = batch(x, x, x.size(), x.size());
  EXPECT_NEAR(m.mean(), b.mx, 1e-12 * b.mx);
  EXPECT_NEAR(m.variance(), b.vx, 1e-9 * b.vx);
}

}  // namespace
}  // namespace pairflow::stats
