#include <gtest/gtest.h>

#include "features/feature_pipeline.h"
#include "features/time_bars.h"

namespace pairflow::features {
namespace {

struct Collected {
  std::vector<Timestamp> starts;
  std::vector<Bar> bars;
  void operator()(Timestamp start, std::span<const Bar> slice) {
    starts.push_back(start);
    bars.insert(bars.end(), slice.begin(), slice.end());
  }
};

Tick tick(Timestamp seconds, SymbolId symbol, double price, double size) {
  return Tick{.ts = seconds * kNanosPerSecond, .symbol = symbol, .price = price, .size = size};
}

TEST(TimeBars, OhlcvVwapAlignedAndLabelledByStart) {
  TimeBarAggregator agg(kNanosPerMinute);
  Collected out;
  ASSERT_TRUE(agg.on_tick(tick(61, 1, 10, 100), out));
  ASSERT_TRUE(agg.on_tick(tick(65, 0, 50, 10), out));
  ASSERT_TRUE(agg.on_tick(tick(70, 1, 12, 100), out));
  ASSERT_TRUE(agg.on_tick(tick(119, 1, 9, 200), out));
  EXPECT_TRUE(out.bars.empty());  // nothing closes before event time passes 120s
  ASSERT_TRUE(agg.on_tick(tick(120, 1, 11, 1), out));
  ASSERT_EQ(out.starts.size(), 1u);
  EXPECT_EQ(out.starts[0], 60 * kNanosPerSecond);
  ASSERT_EQ(out.bars.size(), 2u);
  const Bar& b0 = out.bars[0];  // symbol order
  EXPECT_EQ(b0.symbol, 0u);
  EXPECT_EQ(b0.count, 1u);
  const Bar& b1 = out.bars[1];
  EXPECT_EQ(b1.symbol, 1u);
  EXPECT_EQ(b1.ts, 60 * kNanosPerSecond);
  EXPECT_EQ(b1.open, 10);
  EXPECT_EQ(b1.high, 12);
  EXPECT_EQ(b1.low, 9);
  EXPECT_EQ(b1.close, 9);
  EXPECT_EQ(b1.volume, 400);
  EXPECT_DOUBLE_EQ(b1.vwap, (10 * 100 + 12 * 100 + 9 * 200) / 400.0);
  EXPECT_EQ(b1.count, 3u);
}

TEST(TimeBars, GapsProduceNoBarsAndFlushEmitsPartial) {
  TimeBarAggregator agg(kNanosPerMinute);
  Collected out;
  ASSERT_TRUE(agg.on_tick(tick(0, 0, 10, 1), out));
  ASSERT_TRUE(agg.on_tick(tick(300, 0, 11, 1), out));  // minutes 1-4 empty
  ASSERT_EQ(out.starts.size(), 1u);
  agg.flush(out);
  ASSERT_EQ(out.starts.size(), 2u);
  EXPECT_EQ(out.starts[1], 300 * kNanosPerSecond);
  EXPECT_EQ(out.bars[1].close, 11);
}

TEST(TimeBars, LateTickIsRejectedNotMerged) {
  TimeBarAggregator agg(kNanosPerMinute);
  Collected out;
  ASSERT_TRUE(agg.on_tick(tick(10, 0, 10, 1), out));
  ASSERT_TRUE(agg.on_tick(tick(70, 0, 11, 1), out));
  Status late = agg.on_tick(tick(59, 0, 99, 1), out);
  EXPECT_EQ(late.code(), StatusCode::kOutOfOrder);
  ASSERT_TRUE(agg.on_tick(tick(65, 0, 12, 1), out));  // within the open interval: accepted
  agg.flush(out);
  ASSERT_EQ(out.bars.size(), 2u);
  EXPECT_EQ(out.bars[0].high, 10);
  EXPECT_EQ(out.bars[1].count, 2u);
  // OHLC follow event time, not arrival: the 65 s tick opens the bar, the 70 s tick closes it.
  EXPECT_EQ(out.bars[1].open, 12);
  EXPECT_EQ(out.bars[1].close, 11);
  EXPECT_EQ(agg.late_rejected(), 1u);
}

TEST(TimeBars, NegativeEpochAlignsDown) {
  TimeBarAggregator agg(kNanosPerMinute);
  Collected out;
  ASSERT_TRUE(agg.on_tick(tick(-1, 0, 10, 1), out));
  agg.flush(out);
  EXPECT_EQ(out.starts[0], -60 * kNanosPerSecond);
}

}  // namespace
}  // namespace pairflow::features

namespace pairflow::features {
namespace {

TEST(FeaturePipeline, ParseBarSpec) {
  auto t = parse_bar_spec("1s");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, BarKind::kTime);
  EXPECT_EQ(t->interval, kNanosPerSecond);
  auto v = parse_bar_spec("volume:1e4");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, BarKind::kVolume);
  EXPECT_EQ(v->threshold, 1e4);
  for (const char* bad : {"", "0s", "tick:1.5", "tick:0", "dollar:-3", "foo:3", "volume:"}) {
    EXPECT_FALSE(parse_bar_spec(bad)) << bad;
  }
}

TEST(FeaturePipeline, ValidatesTicksAndProducesRows) {
  auto specs = parse_indicators("sma:2");
  ASSERT_TRUE(specs);
  FeaturePipeline p(*parse_bar_spec("tick:2"), *specs);
  std::vector<double> sma;
  auto on_row = [&](const Bar&, std::span<const double> v) { sma.push_back(v[0]); };
  EXPECT_EQ(p.on_tick(Tick{.ts = 1, .symbol = 0, .price = -1, .size = 1}, on_row).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(p.on_tick(Tick{.ts = 1, .symbol = 0, .price = 1, .size = kNaN}, on_row).code(),
            StatusCode::kInvalidArgument);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(p.on_tick(Tick{.ts = i, .symbol = 0, .price = 10.0 + i, .size = 1}, on_row));
  p.flush(on_row);
  ASSERT_EQ(sma.size(), 3u);  // bars closing at 11, 13 and the partial 14
  EXPECT_TRUE(std::isnan(sma[0]));
  EXPECT_EQ(sma[1], (11.0 + 13.0) / 2);
  EXPECT_EQ(sma[2], (13.0 + 14.0) / 2);
  EXPECT_EQ(p.bars(), 3u);
}

}  // namespace
}  // namespace pairflow::features
