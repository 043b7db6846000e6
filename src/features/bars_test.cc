// Bars against the pandas reference (tests/golden/make_feature_golden.py) and the bar rules.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "features/threshold_bars.h"
#include "features/time_bars.h"
#include "support/features_golden.h"

namespace pairflow::features {
namespace {

using testing::golden;
using testing::golden_bar;
using testing::golden_ticks;
using testing::near;

void expect_bars(const std::vector<Bar>& got, simdjson::dom::array want, const std::string& label) {
  ASSERT_EQ(got.size(), want.size()) << label;
  std::size_t i = 0;
  for (simdjson::dom::element e : want) {
    const Bar w = golden_bar(e.get_array());
    const Bar& g = got[i];
    const std::string at = label + " bar " + std::to_string(i);
    EXPECT_EQ(g.ts, w.ts) << at;
    EXPECT_EQ(g.symbol, w.symbol) << at;
    EXPECT_EQ(g.open, w.open) << at;
    EXPECT_EQ(g.high, w.high) << at;
    EXPECT_EQ(g.low, w.low) << at;
    EXPECT_EQ(g.close, w.close) << at;
    EXPECT_TRUE(near(g.volume, w.volume)) << at;
    EXPECT_TRUE(near(g.vwap, w.vwap)) << at;
    EXPECT_EQ(g.count, w.count) << at;
    ++i;
  }
}

TEST(GoldenBars, TimeBarsMatchPandasResample) {
  const std::vector<Tick> ticks = golden_ticks();
  for (simdjson::dom::element c : golden()["time_bars"].get_array()) {
    const Timestamp interval = std::int64_t(c["interval_ns"]);
    const Timestamp lateness = std::int64_t(c["lateness_ns"]);
    const std::string label =
        "interval " + std::to_string(interval) + " lateness " + std::to_string(lateness);
    for (const bool sparse : {false, true}) {
      TimeBarAggregator agg(interval, lateness, sparse);
      std::vector<Bar> bars;
      Timestamp last_start = std::numeric_limits<Timestamp>::min();
      std::uint64_t late = 0;
      auto on_slice = [&](Timestamp start, std::span<const Bar> slice) {
        EXPECT_GT(start, last_start) << label << ": slices in start order";
        last_start = start;
        for (const Bar& b : slice) {
          EXPECT_EQ(b.ts, start);
          // Emitted only once the watermark passed the bar's end (flush aside).
          bars.push_back(b);
        }
      };
      for (const Tick& t : ticks) {
        Status s = agg.on_tick(t, on_slice);
        if (!s) {
          EXPECT_EQ(s.code(), StatusCode::kOutOfOrder);
          ++late;
        }
        // Nothing emitted whose end is after the watermark.
        if (!bars.empty()) {
          EXPECT_LE(bars.back().ts + interval, agg.watermark()) << label;
        }
      }
      agg.flush(on_slice);
      EXPECT_EQ(late, std::uint64_t(c["late"])) << label;
      EXPECT_EQ(agg.late_rejected(), late);
      expect_bars(bars, c["bars"].get_array(), label + (sparse ? " sparse" : " dense"));
    }
  }
}

TEST(GoldenBars, ThresholdBarsMatchPandasGroupby) {
  const std::vector<Tick> ticks = golden_ticks();
  for (simdjson::dom::element c : golden()["threshold_bars"].get_array()) {
    const std::string kind{std::string_view(c["kind"])};
    const ThresholdKind k = kind == "tick"     ? ThresholdKind::kTick
                            : kind == "volume" ? ThresholdKind::kVolume
                                               : ThresholdKind::kDollar;
    const double threshold = testing::num(c["threshold"]);
    const Timestamp lateness = std::int64_t(c["lateness_ns"]);
    ThresholdBarAggregator agg(k, threshold, lateness);
    std::vector<Bar> bars;
    auto on_bar = [&](const Bar& b) { bars.push_back(b); };
    for (const Tick& t : ticks) (void)agg.on_tick(t, on_bar);
    agg.flush(on_bar);
    EXPECT_EQ(agg.late_beyond_lateness(), std::uint64_t(c["late_lateness"])) << kind;
    EXPECT_EQ(agg.late_bar_closed(), std::uint64_t(c["late_closed"])) << kind;
    expect_bars(bars, c["bars"].get_array(), kind + " " + std::to_string(threshold));
  }
}

Tick tick(Timestamp ms, SymbolId symbol, double price, double size) {
  return Tick{.ts = ms * 1'000'000, .symbol = symbol, .price = price, .size = size};
}

TEST(TimeBarsLateness, LateTickInsideLatenessJoinsItsOpenBar) {
  TimeBarAggregator agg(kNanosPerSecond, 500'000'000);  // 1 s bars, 0.5 s lateness
  std::vector<Bar> out;
  auto on_slice = [&](Timestamp, std::span<const Bar> s) {
    out.insert(out.end(), s.begin(), s.end());
  };
  ASSERT_TRUE(agg.on_tick(tick(100, 0, 10, 1), on_slice));
  ASSERT_TRUE(agg.on_tick(tick(1200, 0, 20, 1), on_slice));  // watermark 0.7 s: [0,1) still open
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(agg.on_tick(tick(900, 0, 5, 1), on_slice));    // out of order, applied to [0,1)
  ASSERT_TRUE(agg.on_tick(tick(1600, 0, 21, 1), on_slice));  // watermark 1.1 s closes [0,1)
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].open, 10);
  EXPECT_EQ(out[0].close, 5);  // latest event time, not latest arrival
  EXPECT_EQ(out[0].low, 5);
  EXPECT_EQ(out[0].count, 2u);
  Status late = agg.on_tick(tick(950, 0, 99, 1), on_slice);
  EXPECT_EQ(late.code(), StatusCode::kOutOfOrder);
  EXPECT_EQ(agg.late_rejected(), 1u);
  ASSERT_TRUE(agg.on_tick(tick(1100, 0, 22, 1), on_slice));  // earlier than 1.2/1.6, bar open
  agg.flush(on_slice);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].open, 22);
  EXPECT_EQ(out[1].close, 21);
  EXPECT_EQ(out[1].count, 3u);
}

TEST(TimeBarsLateness, LongGapJumpsWithoutVisitingEmptyIntervals) {
  TimeBarAggregator agg(1'000'000, 0);
  std::size_t slices = 0;
  auto on_slice = [&](Timestamp, std::span<const Bar>) { ++slices; };
  ASSERT_TRUE(agg.on_tick(tick(0, 0, 1, 1), on_slice));
  ASSERT_TRUE(agg.on_tick(tick(1000LL * 86400 * 365, 0, 1, 1), on_slice));  // a year of 1 ms bars
  EXPECT_EQ(slices, 1u);
  agg.flush(on_slice);
  EXPECT_EQ(slices, 2u);
}

TEST(TimeBarsLateness, HugeLatenessCostsMemoryByTheDataNotBySetting) {
  // 1-second bars with 100 days of lateness: a dense ring would hold 8.6M slots per symbol.
  const Timestamp lateness = 100 * kNanosPerDay;
  TimeBarAggregator agg(kNanosPerSecond, lateness);
  std::vector<Bar> out;
  auto on_slice = [&](Timestamp, std::span<const Bar> s) {
    out.insert(out.end(), s.begin(), s.end());
  };
  for (std::int64_t i = 0; i < 3000; ++i) {
    ASSERT_TRUE(agg.on_tick(tick(i * 700, static_cast<SymbolId>(i % 50), 10 + i % 7, 1), on_slice));
  }
  EXPECT_LE(agg.rows(), 3000u);  // at most one row per tick, however large the lateness
  EXPECT_TRUE(out.empty());      // nothing is past the watermark yet
  ASSERT_TRUE(agg.on_tick(tick(lateness / 1'000'000 + 3000 * 700, 0, 10, 1), on_slice));
  EXPECT_GT(out.size(), 0u);  // the watermark passed the first bars: closed, rows reused
  agg.flush(on_slice);
  std::uint64_t ticks = 0;
  for (const Bar& b : out) ticks += b.count;
  EXPECT_EQ(ticks, 3001u);
}

TEST(ThresholdBars, VolumeBarOvershootsAndFlushEmitsPartial) {
  ThresholdBarAggregator agg(ThresholdKind::kVolume, 100);
  std::vector<Bar> out;
  auto on_bar = [&](const Bar& b) { out.push_back(b); };
  ASSERT_TRUE(agg.on_tick(tick(1, 1, 10, 60), on_bar));
  ASSERT_TRUE(agg.on_tick(tick(2, 1, 11, 70), on_bar));  // 130 >= 100: closes, no split
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].volume, 130);
  EXPECT_EQ(out[0].ts, 1'000'000);
  ASSERT_TRUE(agg.on_tick(tick(3, 0, 5, 1), on_bar));
  ASSERT_TRUE(agg.on_tick(tick(4, 1, 12, 1), on_bar));
  EXPECT_EQ(agg.on_tick(tick(1, 1, 12, 1), on_bar).code(), StatusCode::kOutOfOrder);
  EXPECT_EQ(agg.late_rejected(), 1u);
  agg.flush(on_bar);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].symbol, 0u);  // flush in symbol order
  EXPECT_EQ(out[2].symbol, 1u);
  EXPECT_EQ(out[2].volume, 1);
}

}  // namespace
}  // namespace pairflow::features
