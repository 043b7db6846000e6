#include "screen/screener.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "screen/orchestrator.h"
#include "sim/market.h"
#include "stats/coint.h"

namespace pairflow::screen {
namespace {

// Minute log mids of the synthetic market, one row (all symbols) per bar.
std::vector<std::vector<double>> minute_bars(sim::MarketGenerator& gen, int bars) {
  std::vector<std::vector<double>> out;
  for (int b = 1; b <= bars; ++b) {
    gen.advance_to_second(b * 60 - 1);
    out.push_back(gen.log_mids());
  }
  return out;
}

sim::MarketSpec spec(std::uint64_t seed, int symbols, int planted) {
  sim::MarketSpec s;
  s.seed = seed;
  s.symbols = symbols;
  s.sectors = 4;
  s.planted_pairs = planted;
  return s;
}

double batch_corr(const std::vector<std::vector<double>>& rows, int end, int w, int i, int j) {
  double mi = 0, mj = 0;
  for (int t = end - w; t < end; ++t) {
    mi += rows[t][i] - rows[t - 1][i];
    mj += rows[t][j] - rows[t - 1][j];
  }
  mi /= w;
  mj /= w;
  double sij = 0, sii = 0, sjj = 0;
  for (int t = end - w; t < end; ++t) {
    const double a = rows[t][i] - rows[t - 1][i] - mi, b = rows[t][j] - rows[t - 1][j] - mj;
    sij += a * b;
    sii += a * a;
    sjj += b * b;
  }
  return sij / std::sqrt(sii * sjj);
}

TEST(Screener, IncrementalCorrelationEqualsBatch) {
  sim::MarketGenerator gen(spec(3, 24, 3));
  auto rows = minute_bars(gen, 300);
  for (int block : {1, 5, 8}) {
    ScreenerConfig config;
    config.window = 60;
    config.update_block = block;
    config.rebuild_every = 1000;  // mostly incremental
    Screener screener(24, config);
    for (int t = 0; t < 300; ++t) {
      screener.on_bar(rows[t]);
      if (t >= 61 && t % 37 == 0) {
        for (int i = 0; i < 24; ++i)
          for (int j = i + 1; j < 24; ++j)
            ASSERT_NEAR(screener.correlation(i, j), batch_corr(rows, t + 1, 60, i, j), 1e-9)
                << "block " << block << " bar " << t << " pair " << i << "," << j;
      }
    }
  }
}

TEST(Screener, PrescreenEqualsLagZeroEngleGranger) {
  sim::MarketGenerator gen(spec(4, 20, 4));
  auto rows = minute_bars(gen, 450);
  ScreenerConfig config;
  config.window = 390;
  config.min_abs_corr = 0;
  config.prescreen_pvalue = 1;  // every pair reaches EG
  config.correction = Correction::kNone;
  config.max_pvalue = 1;
  config.max_half_life = 1e9;
  config.min_half_life = 0;
  config.max_hurst = 10;
  config.min_crossings = 0;
  config.stability_splits = 0;
  config.min_leg_margin = -1e9;
  config.max_pairs_per_symbol = 0;
  Screener screener(20, config);
  for (const auto& r : rows) screener.on_bar(r);
  auto result = screener.screen();
  EXPECT_EQ(result.pairs, 190);
  ASSERT_GT(result.candidates.size(), 100u);
  stats::CointOptions lag0;
  lag0.maxlag = 0;
  lag0.autolag = stats::AutoLag::kNone;
  std::vector<double> y, x;
  for (const auto& c : result.candidates) {
    screener.window_levels(c.y, y);
    screener.window_levels(c.x, x);
    auto r = stats::coint(y, x, lag0);
    ASSERT_TRUE(r.is_ok());
    EXPECT_NEAR(c.df_stat, r->stat, 1e-6 * std::max(1.0, std::fabs(r->stat)));
    auto full = stats::coint(y, x);
    EXPECT_NEAR(c.stat, full->stat, 1e-9);
  }
}

// Precision@K over several seeds, K = number planted, both orientations accepted.
TEST(Screener, FindsPlantedPairsNotSectorDecoys) {
  int hits = 0, k_total = 0;
  for (std::uint64_t seed = 11; seed <= 15; ++seed) {
    sim::MarketGenerator gen(spec(seed, 60, 6));
    // Two sessions of minute bars: over one session (390 bars) the generator's slowest, weakest
    // spreads are not always distinguishable from a leg's own stationary component.
    const int w = 780;
    auto rows = minute_bars(gen, w + 30);
    ScreenerConfig config;
    config.window = w;
    Screener screener(60, config);
    for (const auto& r : rows) screener.on_bar(r);
    auto result = screener.screen();
    std::set<std::pair<std::string, std::string>> planted;
    for (const auto& p : gen.planted()) planted.insert(std::minmax(p.y, p.x));
    const int k = static_cast<int>(planted.size());
    k_total += k;
    for (int r = 0; r < k && r < static_cast<int>(result.candidates.size()); ++r) {
      const auto& c = result.candidates[r];
      hits += planted.count(std::minmax(gen.symbols().name(c.y), gen.symbols().name(c.x)));
    }
    for (const auto& c : result.candidates) {
      EXPECT_TRUE(planted.count(std::minmax(gen.symbols().name(c.y), gen.symbols().name(c.x))))
          << "seed " << seed << ": decoy " << gen.symbols().name(c.y) << "/"
          << gen.symbols().name(c.x) << " p=" << c.adj_pvalue << " stat " << c.stat << " leg "
          << c.leg_stat << " hurst " << c.hurst << " hl " << c.half_life;
    }
  }
  EXPECT_GE(static_cast<double>(hits) / k_total, 0.9) << hits << "/" << k_total;
}

TEST(Screener, NoPlantedPairsNoCandidates) {
  int total = 0;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    sim::MarketGenerator gen(spec(seed, 60, 0));
    auto rows = minute_bars(gen, 420);
    Screener screener(60, ScreenerConfig{});
    for (const auto& r : rows) screener.on_bar(r);
    total += static_cast<int>(screener.screen().candidates.size());
  }
  EXPECT_EQ(total, 0);
}

TEST(Orchestrator, HysteresisCapacityAndFlatRule) {
  OrchestratorConfig config;
  config.activate_after = 2;
  config.deactivate_after = 2;
  config.max_active = 1;
  Orchestrator orch(config);
  ScreenResult pass;
  ScreenCandidate a;
  a.y = 1;
  a.x = 2;
  a.hedge_ratio = 0.8;
  a.half_life = 4;
  ScreenCandidate b = a;
  b.y = 3;
  b.x = 4;
  pass.candidates = {a, b};
  std::vector<PairControl> out;
  bool flat = true;
  auto is_flat = [&](PairId) { return flat; };
  orch.on_screen(1, pass, is_flat, out);
  EXPECT_TRUE(out.empty());
  orch.on_screen(2, pass, is_flat, out);
  ASSERT_EQ(out.size(), 1u);  // capacity 1: only the best ranked
  EXPECT_EQ(out[0].action, ControlAction::kActivate);
  EXPECT_EQ(out[0].y, 1u);
  EXPECT_EQ(out[0].pair, 0u);
  SymbolTable symbols;
  for (auto n : {"A", "B", "C", "D", "E"}) symbols.intern(n);
  EXPECT_EQ(to_json(out[0], symbols),
            R"({"ts":2,"pair":0,"action":"activate","y":"B","x":"C","hedge_ratio":0.8,)"
            R"("intercept":0,"half_life":4,"pvalue":1,"entry_z":2,"exit_z":0.5,"stop_z":4,)"
            R"("max_hold_bars":0})");
  out.clear();
  ScreenResult none;
  flat = false;
  for (int s = 3; s < 6; ++s) orch.on_screen(s, none, is_flat, out);
  EXPECT_TRUE(out.empty());  // evidence gone, but holding a position
  flat = true;
  orch.on_screen(6, none, is_flat, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].action, ControlAction::kDeactivate);
  EXPECT_EQ(orch.active_count(), 0);
}

}  // namespace
}  // namespace pairflow::screen
