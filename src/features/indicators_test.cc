// Streaming indicators against the pandas/TTR golden values, warm-up and long-run drift.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>

#include "features/indicator_engine.h"
#include "support/features_golden.h"

#ifdef PAIRFLOW_HAVE_STATS
#include "stats/hurst.h"
#endif

namespace pairflow::features {
namespace {

using testing::golden;
using testing::golden_bar;
using testing::near;
using testing::num;

TEST(GoldenIndicators, EngineMatchesPandasAndTtrTo1e9) {
  simdjson::dom::element c = golden()["indicators"];
  auto specs = parse_indicators(std::string_view(c["specs"]));
  ASSERT_TRUE(specs) << specs.status().message();
  SymbolTable symbols;
  symbols.intern("X");
  symbols.intern("Y");
  IndicatorEngine engine(*specs, &symbols);
  std::vector<std::string> columns;
  for (simdjson::dom::element e : c["columns"].get_array())
    columns.emplace_back(std::string_view(e));
  ASSERT_EQ(columns.size(), engine.columns());
  for (std::size_t i = 0; i < columns.size(); ++i) EXPECT_EQ(engine.specs()[i].column, columns[i]);

  std::vector<Bar> bars;
  for (simdjson::dom::element e : c["bars"].get_array()) bars.push_back(golden_bar(e.get_array()));
  std::vector<std::vector<double>> want;
  for (simdjson::dom::element row : c["values"].get_array()) {
    want.emplace_back();
    for (simdjson::dom::element v : row.get_array()) want.back().push_back(num(v));
  }
  ASSERT_EQ(bars.size(), want.size());
  // Feed slices: all bars with one timestamp together, in symbol order.
  std::size_t row = 0, defined = 0;
  for (std::size_t i = 0; i < bars.size();) {
    std::size_t j = i;
    while (j < bars.size() && bars[j].ts == bars[i].ts) ++j;
    engine.on_slice(std::span<const Bar>(bars.data() + i, j - i),
                    [&](const Bar& b, std::span<const double> values) {
                      for (std::size_t k = 0; k < values.size(); ++k) {
                        EXPECT_TRUE(near(values[k], want[row][k]))
                            << columns[k] << " at row " << row << " symbol " << b.symbol;
                        defined += !std::isnan(want[row][k]);
                      }
                      ++row;
                    });
    i = j;
  }
  EXPECT_EQ(row, bars.size());
  EXPECT_GT(defined, bars.size() * 8);  // most values are defined after warm-up
}

TEST(Indicators, WarmUpBoundaries) {
  Sma sma(3);
  Ema ema(3);
  Rsi rsi(3);
  Atr atr(3);
  EwmaVol vol(3);
  LogReturn ret;
  const double xs[] = {10, 11, 10.5, 12, 11.5, 13};
  for (int i = 0; i < 6; ++i) {
    const double x = xs[i];
    const double s = sma.update(x), e = ema.update(x), r = rsi.update(x),
                 a = atr.update(x + 0.5, x - 0.5, x), v = vol.update(x), l = ret.update(x);
    EXPECT_EQ(!std::isnan(s), i >= 2) << i;  // n-th value
    EXPECT_EQ(!std::isnan(e), i >= 2) << i;
    EXPECT_EQ(!std::isnan(r), i >= 3) << i;  // (n + 1)-th value
    EXPECT_EQ(!std::isnan(a), i >= 3) << i;
    EXPECT_EQ(!std::isnan(v), i >= 3) << i;
    EXPECT_EQ(!std::isnan(l), i >= 1) << i;
  }
  Ema seeded(2);
  seeded.update(1);
  EXPECT_DOUBLE_EQ(seeded.update(3), 2.0);  // SMA seed
  EXPECT_DOUBLE_EQ(seeded.update(5), 5 * (2.0 / 3) + 2.0 / 3);
}

TEST(Indicators, NoDriftOverAMillionUpdates) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 1);
  RollingMoments m(50);
  RollingCorrelation corr(50);
  Window xs(50), ys(50);
  double level = 1e6;  // large offset: the naive sum of squares would lose everything
  double last_corr = kNaN;
  for (int i = 0; i < 1'000'000; ++i) {
    level += noise(rng);
    const double y = 0.5 * level + noise(rng);
    m.update(level);
    last_corr = corr.update(level, y);
    xs.push(level);
    ys.push(y);
  }
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < 50; ++i) {
    mx += xs.at(i);
    my += ys.at(i);
  }
  mx /= 50;
  my /= 50;
  double sxx = 0, syy = 0, sxy = 0;
  for (std::size_t i = 0; i < 50; ++i) {
    sxx += (xs.at(i) - mx) * (xs.at(i) - mx);
    syy += (ys.at(i) - my) * (ys.at(i) - my);
    sxy += (xs.at(i) - mx) * (ys.at(i) - my);
  }
  EXPECT_TRUE(near(m.mean(), mx, 1e-12));
  EXPECT_TRUE(near(m.stddev(), std::sqrt(sxx / 49), 1e-9));
  EXPECT_TRUE(near(last_corr, sxy / std::sqrt(sxx * syy), 1e-9));
}

#ifdef PAIRFLOW_HAVE_STATS
TEST(Indicators, RollingHurstEqualsStatsHurstOnEachWindow) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 0.01);
  const int w = 120;
  RollingHurst h(w);
  std::vector<double> levels;
  double x = std::log(100.0), y = 0;
  for (int i = 0; i < 1500; ++i) {
    y = 0.9 * y + noise(rng);  // mean-reverting part
    x += 0.3 * noise(rng);
    levels.push_back(x + y);
    const double got = h.update(levels.back());
    if (i + 1 < w) {
      EXPECT_TRUE(std::isnan(got));
      continue;
    }
    auto want = stats::hurst(std::span<const double>(levels.data() + levels.size() - w, w));
    ASSERT_TRUE(want) << want.status().message();
    EXPECT_TRUE(near(got, want->hurst, 1e-9)) << "at " << i;
  }
}
#endif

TEST(IndicatorSpecs, ParseAndErrors) {
  auto specs = parse_indicators("ema:10, sma:20,rsi,atr:7,logret,hurst,corr:30:SPY");
  ASSERT_TRUE(specs) << specs.status().message();
  ASSERT_EQ(specs->size(), 7u);
  EXPECT_EQ((*specs)[0].column, "ema_10");
  EXPECT_EQ((*specs)[2].column, "rsi_14");
  EXPECT_EQ((*specs)[4].column, "logret");
  EXPECT_EQ((*specs)[5].column, "hurst_100");
  EXPECT_EQ((*specs)[6].column, "corr_30_SPY");
  EXPECT_EQ((*specs)[6].reference, "SPY");
  for (const char* bad : {"ema", "ema:x", "ema:0", "foo:3", "corr:20", "hurst:10", "logret:3",
                          "ema:10,ema:10", "sma:5:6"}) {
    auto r = parse_indicators(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(IndicatorEngine, CorrelationWaitsForReferenceSymbol) {
  SymbolTable symbols;
  auto specs = parse_indicators("corr:3:REF");
  ASSERT_TRUE(specs);
  IndicatorEngine engine(*specs, &symbols);
  const SymbolId a = symbols.intern("A");
  std::vector<double> got;
  auto on_row = [&](const Bar&, std::span<const double> v) { got.push_back(v[0]); };
  Bar b;
  b.symbol = a;
  b.close = 10;
  engine.on_bar(b, on_row);  // REF unknown yet: NaN, no crash
  const SymbolId ref = symbols.intern("REF");
  const double ca[] = {11, 10.5, 12, 11, 13};
  const double cr[] = {20, 21, 22.5, 21, 23};
  for (int i = 0; i < 5; ++i) {
    Bar s[2];
    s[0].symbol = a;
    s[0].close = ca[i];
    s[1].symbol = ref;
    s[1].close = i == 0 ? 19 : cr[i];
    engine.on_slice(std::span<const Bar>(s, 2), on_row);
  }
  ASSERT_EQ(got.size(), 11u);
  EXPECT_TRUE(std::isnan(got[0]));
  // REF's first bar has no return: A's correlation is defined from the 3rd common return.
  EXPECT_TRUE(std::isnan(got[5]));
  EXPECT_FALSE(std::isnan(got[7]));
  EXPECT_TRUE(near(got[8], 1.0));  // REF with itself
}

}  // namespace
}  // namespace pairflow::features
