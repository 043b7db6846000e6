#include <gtest/gtest.h>

#include <map>
#include <set>

#include "screen/pair_discovery.h"
#include "sim/market.h"

namespace pairflow::screen {
namespace {

// One session of 1-minute log mid prices from the synthetic market.
std::vector<std::vector<double>> minute_log_mids(sim::MarketGenerator& gen, int bars) {
  std::vector<std::vector<double>> out(gen.symbols().size());
  for (int b = 1; b <= bars; ++b) {
    gen.advance_to_second(b * 60 - 1);
    for (std::size_t s = 0; s < out.size(); ++s) out[s].push_back(gen.log_mids()[s]);
  }
  return out;
}

sim::MarketSpec spec(std::uint64_t seed, int planted) {
  sim::MarketSpec s;
  s.seed = seed;
  s.symbols = 30;
  s.sectors = 3;
  s.planted_pairs = planted;
  return s;
}

TEST(Discovery, FindsPlantedPairsIncludingInverse) {
  sim::MarketGenerator gen(spec(5, 4));
  // Two sessions: over one, the reverse regression of this generator's large spreads is weak.
  auto prices = minute_log_mids(gen, 780);
  DiscoveryConfig config;
  config.top_k = 4;
  auto result = discover_pairs(prices, config);
  ASSERT_TRUE(result.is_ok()) << result.status().message();
  // The family: each symbol with its 3 nearest neighbours (between 30 * 3 / 2 and 30 * 3 pairs).
  EXPECT_GE(result->tests, 45);
  EXPECT_LE(result->tests, 90);
  std::set<std::pair<std::string, std::string>> found;
  for (const auto& c : result->selected) {
    std::string a = gen.symbols().name(c.y), b = gen.symbols().name(c.x);
    found.insert(std::minmax(a, b));
  }
  int hits = 0;
  for (const auto& p : gen.planted()) hits += found.count(std::minmax(p.y, p.x));
  EXPECT_EQ(hits, 4);
  for (const auto& c : result->selected) {
    EXPECT_LE(c.adj_pvalue, 0.05);
    // The fitted hedge ratio has the planted sign (inverse pairs are negative).
    for (const auto& p : gen.planted()) {
      if (gen.symbols().name(c.y) == p.y) {
        EXPECT_NEAR(c.hedge_ratio, p.hedge_ratio, 0.25);
      }
      if (gen.symbols().name(c.y) == p.x) {
        EXPECT_NEAR(c.hedge_ratio, 1 / p.hedge_ratio, 0.5);
      }
    }
  }
}

TEST(Discovery, CorrelatedRandomWalksYieldNothing) {
  int selected = 0;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    sim::MarketGenerator gen(spec(seed, 0));
    auto prices = minute_log_mids(gen, 390);
    auto result = discover_pairs(prices, DiscoveryConfig{});
    ASSERT_TRUE(result.is_ok());
    selected += static_cast<int>(result->selected.size());
  }
  EXPECT_LE(selected, 1);
}

TEST(Discovery, RankingIsDeterministicAndRespectsSymbolLimit) {
  sim::MarketGenerator gen(spec(9, 3));
  auto prices = minute_log_mids(gen, 390);
  DiscoveryConfig config;
  config.correction = Correction::kNone;  // lets many pairs pass
  config.max_pvalue = 0.5;
  config.top_k = 100;
  auto a = discover_pairs(prices, config);
  auto b = discover_pairs(prices, config);
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->selected.size(), b->selected.size());
  std::map<SymbolId, int> uses;
  for (std::size_t i = 0; i < a->selected.size(); ++i) {
    EXPECT_EQ(a->selected[i].y, b->selected[i].y);
    EXPECT_EQ(a->selected[i].x, b->selected[i].x);
    EXPECT_LE(++uses[a->selected[i].y], 1);
    EXPECT_LE(++uses[a->selected[i].x], 1);
  }
  for (std::size_t i = 1; i < a->passing.size(); ++i) {
    EXPECT_LE(a->passing[i - 1].adj_pvalue, a->passing[i].adj_pvalue);
  }
}

TEST(Discovery, SymbolsWithoutHistoryAreSkippedAndBadConfigRejected) {
  std::vector<std::vector<double>> prices(3, std::vector<double>(100, 1.0));
  for (int i = 0; i < 100; ++i) {
    prices[0][i] = std::log(100 + i + (i % 3));
    prices[1][i] = std::log(50 + 0.5 * i + (i % 5));
    prices[2][i] = i < 50 ? kNaN : 1.0;  // only half the window
  }
  auto result = discover_pairs(prices, DiscoveryConfig{});
  ASSERT_TRUE(result.is_ok());
  EXPECT_EQ(result->symbols_used, 2);
  DiscoveryConfig bad;
  bad.max_pvalue = 0;
  EXPECT_FALSE(discover_pairs(prices, bad).is_ok());
  bad = DiscoveryConfig{};
  bad.min_coverage = 0;
  EXPECT_FALSE(discover_pairs(prices, bad).is_ok());
}

}  // namespace
}  // namespace pairflow::screen
