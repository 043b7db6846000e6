#include <gtest/gtest.h>

#include <cmath>

#include "sim/market.h"

namespace pairflow::sim {
namespace {

MarketSpec small_spec(std::uint64_t seed) {
  MarketSpec spec;
  spec.seed = seed;
  spec.symbols = 10;
  spec.sectors = 2;
  spec.planted_pairs = 2;
  spec.sessions = 1;
  spec.session_length = 30 * kNanosPerMinute;
  return spec;
}

TEST(Market, SameSeedSameTicks) {
  MarketGenerator a(small_spec(7)), b(small_spec(7)), c(small_spec(8));
  Tick ta, tb, tc;
  int n = 0, differ = 0;
  while (a.next(ta)) {
    ASSERT_TRUE(b.next(tb));
    ASSERT_EQ(ta.ts, tb.ts);
    ASSERT_EQ(ta.symbol, tb.symbol);
    ASSERT_EQ(ta.price, tb.price);
    if (c.next(tc) && tc.price != ta.price) ++differ;
    ++n;
  }
  EXPECT_FALSE(b.next(tb));
  EXPECT_GT(n, 1000);
  EXPECT_GT(differ, n / 2);
}

TEST(Market, TicksAreOrderedQuotedAndInsideSessions) {
  MarketSpec spec = small_spec(3);
  spec.sessions = 2;
  MarketGenerator gen(spec);
  Tick t;
  Timestamp last = 0;
  while (gen.next(t)) {
    ASSERT_GE(t.ts, last);
    last = t.ts;
    ASSERT_TRUE(t.has_quote());
    ASSERT_LT(t.bid, t.ask);
    ASSERT_TRUE(t.price == t.bid || t.price == t.ask);
    ASSERT_GT(t.size, 0);
    Timestamp in_day = (t.ts - spec.start) % kNanosPerDay;
    ASSERT_LT(in_day, spec.session_length);
  }
  EXPECT_GT(last, spec.start + kNanosPerDay);  // the second session happened
}

TEST(Market, PlantedPairsHaveKnownSpread) {
  MarketSpec spec = small_spec(11);
  spec.inverse_fraction = 0.5;
  spec.session_length = 390 * kNanosPerMinute;
  MarketGenerator probe(spec);
  ASSERT_EQ(probe.planted().size(), 2u);
  EXPECT_LT(probe.planted()[0].hedge_ratio, 0);  // inverse first
  EXPECT_GT(probe.planted()[1].hedge_ratio, 0);
  const std::vector<PlantedPair>& planted = probe.planted();
  for (const PlantedPair& p : planted) {
    MarketGenerator gen(spec);
    SymbolId y = *gen.symbols().find(p.y), x = *gen.symbols().find(p.x);
    double sum = 0, sum2 = 0;
    int n = 0;
    for (std::int64_t s = 0; s < gen.total_seconds(); s += 10) {
      gen.advance_to_second(s);
      double spread = gen.log_mids()[y] - p.intercept - p.hedge_ratio * gen.log_mids()[x];
      sum += spread;
      sum2 += spread * spread;
      ++n;
    }
    double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
    EXPECT_NEAR(mean, 0, 3 * p.spread_std * std::sqrt(2 * p.half_life_s / 10 / n) + 1e-3);
    EXPECT_NEAR(sd, p.spread_std, 0.35 * p.spread_std);
  }
}

TEST(Market, RejectsImpossibleSpecs) {
  MarketSpec spec = small_spec(1);
  spec.planted_pairs = 6;
  EXPECT_THROW(MarketGenerator{spec}, UserError);
  spec = small_spec(1);
  spec.symbols = 1;
  EXPECT_THROW(MarketGenerator{spec}, UserError);
}

}  // namespace
}  // namespace pairflow::sim
