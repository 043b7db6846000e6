// Unit tests for the Block 1 API: option parsing, MacKinnon tables, OLS, ADF/coint errors,
// half-life.
#include "stats/adf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "stats/coint.h"
#include "stats/mackinnon.h"
#include "stats/ols.h"

namespace pairflow::stats {
namespace {

std::vector<double> random_walk(int n, unsigned seed, double start = 100.0, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  std::vector<double> x(n);
  double v = start;
  for (int i = 0; i < n; ++i) x[i] = v += scale * z(rng);
  return x;
}

TEST(Options, Parse) {
  EXPECT_EQ(*parse_trend("c"), Trend::kConstant);
  EXPECT_EQ(*parse_trend("CTT"), Trend::kConstantTrendSquared);
  EXPECT_EQ(*parse_trend("nc"), Trend::kNone);
  EXPECT_FALSE(parse_trend("x").is_ok());
  EXPECT_EQ(*parse_autolag("AIC"), AutoLag::kAic);
  EXPECT_EQ(*parse_autolag("t-stat"), AutoLag::kTStat);
  EXPECT_EQ(*parse_autolag("none"), AutoLag::kNone);
  EXPECT_FALSE(parse_autolag("hqic").is_ok());
}

TEST(MacKinnon, KnownValues) {
  // statsmodels: mackinnonp(-2.5, 'c', 1), mackinnonp(-3.5, 'c', 2), mackinnoncrit(1,'c',100)
  EXPECT_NEAR(mackinnon_pvalue(-2.5, Trend::kConstant, 1), 0.11547432475870761, 1e-12);
  EXPECT_NEAR(mackinnon_pvalue(-3.5, Trend::kConstant, 2), 0.03239538836017372, 1e-12);
  EXPECT_EQ(mackinnon_pvalue(-30, Trend::kConstant, 1), 0.0);
  EXPECT_EQ(mackinnon_pvalue(5, Trend::kConstant, 1), 1.0);
  const auto crit = mackinnon_crit(Trend::kConstant, 1, 100);
  EXPECT_NEAR(crit[0], -3.497501033, 1e-12);
  EXPECT_NEAR(crit[1], -2.89090644, 1e-12);
  EXPECT_NEAR(crit[2], -2.5824349, 1e-12);
  EXPECT_TRUE(std::isnan(mackinnon_crit(Trend::kNone, 2, 100)[0]));
}

TEST(Ols, MatchesClosedForm) {
  // y = 1 + 2 x + e with a known small design.
  const std::vector<double> x = {1, 2, 3, 4, 5, 6};
  const std::vector<double> y = {3.1, 4.9, 7.2, 8.8, 11.1, 13.0};
  std::vector<double> X(12);
  for (int i = 0; i < 6; ++i) {
    X[i] = 1.0;
    X[6 + i] = x[i];
  }
  Result<OlsResult> r = ols(X.data(), 6, 2, y.data());
  ASSERT_TRUE(r.is_ok());
  // statsmodels OLS(y, X).fit()
  EXPECT_NEAR(r->params[0], 1.0466666666666633, 1e-12);
  EXPECT_NEAR(r->params[1], 1.9914285714285727, 1e-12);
  EXPECT_NEAR(r->bse[1], 0.03910564793837686, 1e-12);
  EXPECT_NEAR(r->r2, 0.9984599311490572, 1e-12);
  EXPECT_NEAR(r->llf, 3.5650917255320556, 1e-10);
  EXPECT_NEAR(r->aic, -3.130183451064111, 1e-10);
  EXPECT_EQ(r->df_model, 1);
  EXPECT_EQ(r->df_resid, 4);
  // Collinear design.
  for (int i = 0; i < 6; ++i) X[6 + i] = 3.0;
  EXPECT_FALSE(ols(X.data(), 6, 2, y.data()).is_ok());
}

TEST(AdfErrors, BadInput) {
  std::vector<double> x = random_walk(200, 1);
  x[17] = std::numeric_limits<double>::quiet_NaN();
  Result<AdfResult> r = adf(x);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "series contains NaN at row 17");
  x[17] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(adf(x).status().message(), "series contains inf at row 17");
  EXPECT_EQ(adf(std::vector<double>(50, 3.0)).status().message(), "series is constant");
  const std::vector<double> short_x = random_walk(15, 2);
  AdfOptions opt;
  opt.maxlag = 12;
  r = adf(short_x, opt);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInsufficientData);
  EXPECT_NE(r.status().message().find("need at least"), std::string::npos);
  EXPECT_FALSE(adf(std::vector<double>{1.0, 2.0}).is_ok());
  EXPECT_FALSE(adf(std::vector<double>{}).is_ok());
  opt.maxlag = -1;
  EXPECT_FALSE(adf(random_walk(100, 3), opt).is_ok());
  // A perfectly linear series: differences are constant, so the regression is degenerate.
  std::vector<double> line(100);
  for (int i = 0; i < 100; ++i) line[i] = 2.0 * i;
  EXPECT_FALSE(adf(line).is_ok());
  // Every short length and trend either works or errors cleanly.
  for (int n = 0; n < 30; ++n) {
    const auto s = random_walk(n, 10 + n);
    for (Trend t :
         {Trend::kNone, Trend::kConstant, Trend::kConstantTrend, Trend::kConstantTrendSquared}) {
      for (AutoLag a : {AutoLag::kNone, AutoLag::kAic, AutoLag::kBic, AutoLag::kTStat}) {
        Result<AdfResult> rr = adf(s, {t, std::nullopt, a});
        if (rr.is_ok()) {
          EXPECT_TRUE(std::isfinite(rr->stat));
        } else {
          EXPECT_FALSE(rr.status().message().empty());
        }
      }
    }
  }
}

TEST(CointErrors, BadInput) {
  const auto x = random_walk(300, 4);
  auto y = random_walk(300, 5);
  EXPECT_NE(coint(y, std::vector<double>(299, 1.0)).status().message().find("differ in length"),
            std::string::npos);
  std::vector<double> collinear(300);
  for (int i = 0; i < 300; ++i) collinear[i] = 2.0 * x[i] + 1.0;
  Result<CointResult> r = coint(collinear, x);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("collinear"), std::string::npos);
  EXPECT_EQ(coint(y, std::vector<double>(300, 2.0)).status().message(), "x is constant");
  y[3] = std::nan("");
  EXPECT_EQ(coint(y, x).status().message(), "y contains NaN at row 3");
  EXPECT_FALSE(coint(std::vector<double>{1, 2}, std::vector<double>{2, 1}).is_ok());
}

TEST(HalfLife, OrnsteinUhlenbeck) {
  // AR(1) with phi = 0.9: beta = -0.1, half-life = -ln 2 / ln 0.9 = 6.58.
  std::mt19937_64 rng(7);
  std::normal_distribution<double> z;
  std::vector<double> s(20000);
  s[0] = 0;
  for (size_t i = 1; i < s.size(); ++i) s[i] = 0.9 * s[i - 1] + z(rng);
  Result<double> h = half_life(s);
  ASSERT_TRUE(h.is_ok());
  EXPECT_NEAR(*h, -std::log(2.0) / std::log(0.9), 0.3);
  // Exact: a noiseless decay s_t = 0.5^t * 8 has beta = -0.5 and half-life 1.
  std::vector<double> decay = {8, 4, 2, 1, 0.5, 0.25};
  EXPECT_NEAR(*half_life(decay), 1.0, 1e-12);
  // Explosive series: not mean-reverting.
  std::vector<double> grow = {1, 2, 4, 8, 16, 32, 64};
  EXPECT_NE(half_life(grow).status().message().find("not mean-reverting"), std::string::npos);
  EXPECT_FALSE(half_life(std::vector<double>{1, 2}).is_ok());
}

}  // namespace
}  // namespace pairflow::stats
