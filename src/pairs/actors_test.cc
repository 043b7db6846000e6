#include "pairs/actors.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>

#include "pairs/pair_model.h"
#include "sim/market.h"

namespace pairflow::pairs {
namespace {

std::vector<std::vector<double>> minute_bars(int symbols, int bars, std::uint64_t seed) {
  sim::MarketSpec spec;
  spec.seed = seed;
  spec.symbols = symbols;
  spec.planted_pairs = symbols / 4;
  spec.sessions = 3;
  sim::MarketGenerator gen(spec);
  std::vector<std::vector<double>> out;
  for (int b = 1; b <= bars; ++b) {
    gen.advance_to_second(b * 60 - 1);
    out.push_back(gen.log_mids());
  }
  return out;
}

// Lower entry threshold so that plenty of signals occur.
PairSpec spec_for(PairId id, int symbols) {
  PairSpec p;
  p.id = id;
  p.y = id % symbols;
  p.x = (id * 7 + 3) % symbols;
  if (p.x == p.y) p.x = (p.y + 1) % symbols;
  p.entry_z = 1.5;
  p.exit_z = 0.3;
  p.stop_z = 3.0;
  p.max_hold_bars = (id % 3 == 0) ? 15 : 0;
  return p;
}

TEST(PairActors, RollingOlsMatchesPairModel) {
  const int symbols = 16, bars = 600, pairs = 40;
  auto rows = minute_bars(symbols, bars, 21);
  ActorsConfig config;
  config.window = 60;
  PairActors actors(symbols, config);
  std::vector<PairModel> models;
  for (PairId id = 0; id < pairs; ++id) {
    auto p = spec_for(id, symbols);
    actors.post_activate(p);
    models.emplace_back(id, PairModelConfig{.window = 60,
                                            .entry_z = p.entry_z,
                                            .exit_z = p.exit_z,
                                            .stop_z = p.stop_z,
                                            .max_hold_bars = p.max_hold_bars});
  }
  int actions = 0;
  for (int t = 0; t < bars; ++t) {
    auto out = actors.step(t, rows[t]);
    std::vector<Signal> expected;
    for (PairId id = 0; id < pairs; ++id) {
      auto p = spec_for(id, symbols);
      Signal s = models[id].on_bar(t, rows[t][p.y], rows[t][p.x]);
      if (std::isfinite(s.z)) {
        ASSERT_NEAR(actors.z(id), s.z, 1e-7) << "bar " << t << " pair " << id;
      }
      if (s.action != SignalAction::kHold) expected.push_back(s);
    }
    ASSERT_EQ(out.size(), expected.size()) << "bar " << t;
    for (std::size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i].pair, expected[i].pair);
      EXPECT_EQ(out[i].action, expected[i].action);
    }
    actions += static_cast<int>(out.size());
  }
  EXPECT_GT(actions, 50);
}

std::vector<Signal> run(int threads, HedgeMethod hedge,
                        const std::vector<std::vector<double>>& rows, int symbols) {
  ActorsConfig config;
  config.window = 50;
  config.threads = threads;
  config.hedge = hedge;
  config.kalman.initial_cov = {1, 0, 0, 1};
  config.kalman.ve = 1e-6;
  config.kalman.delta = 1e-6;
  PairActors actors(symbols, config);
  std::vector<Signal> all;
  PairId next = 0;
  for (std::size_t t = 0; t < rows.size(); ++t) {
    if (t % 40 == 0) {  // activations with seeds, deactivations, force_flat: through the mailboxes
      for (int k = 0; k < 25; ++k) {
        auto p = spec_for(next++, symbols);
        std::vector<double> sy, sx;
        for (std::size_t h = t >= 30 ? t - 30 : 0; h < t; ++h) {
          sy.push_back(rows[h][p.y]);
          sx.push_back(rows[h][p.x]);
        }
        actors.post_activate(p, sy, sx);
      }
      for (PairId id = 0; id < next; id += 7) actors.post_deactivate(id);
      for (PairId id = 1; id < next; id += 11) actors.post_force_flat(id);
    }
    auto out = actors.step(static_cast<Timestamp>(t), rows[t]);
    all.insert(all.end(), out.begin(), out.end());
  }
  return all;
}

TEST(PairActors, SameOutputWithOneAndFourThreads) {
  const int symbols = 30;
  auto rows = minute_bars(symbols, 500, 8);
  for (auto hedge : {HedgeMethod::kRollingOls, HedgeMethod::kKalman}) {
    auto one = run(1, hedge, rows, symbols);
    auto four = run(4, hedge, rows, symbols);
    ASSERT_GT(one.size(), 100u);
    ASSERT_EQ(one.size(), four.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
      EXPECT_EQ(one[i].ts, four[i].ts);
      EXPECT_EQ(one[i].pair, four[i].pair);
      EXPECT_EQ(one[i].action, four[i].action);
      // To the bit (NaN included): compare the representations.
      EXPECT_EQ(std::bit_cast<std::uint64_t>(one[i].z), std::bit_cast<std::uint64_t>(four[i].z));
      EXPECT_EQ(std::bit_cast<std::uint64_t>(one[i].hedge_ratio),
                std::bit_cast<std::uint64_t>(four[i].hedge_ratio));
    }
    for (std::size_t i = 1; i < one.size(); ++i)
      if (one[i].ts == one[i - 1].ts) {
        EXPECT_LT(one[i - 1].pair, one[i].pair);
      }
  }
}

}  // namespace
}  // namespace pairflow::pairs

namespace pairflow::pairs {
namespace {

// step_pair() is step() for one pair: the same signals, and a pair saved and restored anywhere
// continues to the bit.
TEST(PairActors, StepPairAndSaveRestoreTradeLikeStep) {
  const int symbols = 16, bars = 500, pairs = 8;
  const auto data = minute_bars(symbols, bars, 11);
  for (HedgeMethod hedge : {HedgeMethod::kRollingOls, HedgeMethod::kKalman}) {
    ActorsConfig config{.window = 40, .hedge = hedge};
    PairActors all(symbols, config);
    auto one_by_one = std::make_unique<PairActors>(symbols, config);
    for (PairId id = 0; id < pairs; ++id) {
      all.post_activate(spec_for(id, symbols));
      one_by_one->post_activate(spec_for(id, symbols));
    }
    std::vector<Signal> from_step, from_pairs;
    for (int b = 0; b < bars; ++b) {
      const Timestamp ts = (b + 1) * kNanosPerMinute;
      for (const Signal& s : all.step(ts, data[b])) from_step.push_back(s);
      if (b == 250) {  // every actor through a checkpoint: saved, then restored into new actors
        auto fresh = std::make_unique<PairActors>(symbols, config);
        for (PairId id = 0; id < pairs; ++id) {
          const auto saved = one_by_one->save(id);
          ASSERT_TRUE(saved);
          ASSERT_TRUE(fresh->restore(*saved));
        }
        one_by_one = std::move(fresh);
      }
      for (PairId id = 0; id < pairs; ++id) {
        const PairSpec p = spec_for(id, symbols);
        const auto s = one_by_one->step_pair(id, ts, data[b][p.y], data[b][p.x]);
        ASSERT_TRUE(s);
        if (s->action != SignalAction::kHold) from_pairs.push_back(*s);
      }
    }
    ASSERT_GT(from_step.size(), 10u);
    ASSERT_EQ(from_step.size(), from_pairs.size());
    for (std::size_t i = 0; i < from_step.size(); ++i) {
      EXPECT_EQ(from_step[i].ts, from_pairs[i].ts);
      EXPECT_EQ(from_step[i].pair, from_pairs[i].pair);
      EXPECT_EQ(from_step[i].action, from_pairs[i].action);
      EXPECT_EQ(std::bit_cast<std::uint64_t>(from_step[i].z),
                std::bit_cast<std::uint64_t>(from_pairs[i].z));
    }
    EXPECT_FALSE(one_by_one->step_pair(99, 0, 0, 0));  // not active
  }
}

TEST(SpreadState, EntryExitStopCooldownAndTimeStop) {
  const SpreadThresholds t{.entry_z = 2, .exit_z = 0.5, .stop_z = 4, .max_hold_bars = 3};
  SpreadPosition p;
  EXPECT_EQ(advance(p, -4.5, t), SignalAction::kHold);  // beyond the stop: no entry
  EXPECT_EQ(advance(p, -2.5, t), SignalAction::kEnterLong);
  EXPECT_EQ(advance(p, -1.0, t), SignalAction::kHold);
  EXPECT_EQ(advance(p, -0.4, t), SignalAction::kExit);
  EXPECT_EQ(advance(p, 2.5, t), SignalAction::kEnterShort);
  EXPECT_EQ(advance(p, 4.5, t), SignalAction::kStop);
  EXPECT_TRUE(p.cooling_down);
  EXPECT_EQ(advance(p, 2.5, t), SignalAction::kHold);  // cooling down until |z| <= exit_z
  EXPECT_EQ(advance(p, 0.3, t), SignalAction::kHold);
  EXPECT_EQ(advance(p, -2.2, t), SignalAction::kEnterLong);
  EXPECT_EQ(advance(p, -1.5, t), SignalAction::kHold);
  EXPECT_EQ(advance(p, -1.5, t), SignalAction::kHold);
  EXPECT_EQ(advance(p, -1.5, t), SignalAction::kStop);  // the time stop after 3 bars held
}

}  // namespace
}  // namespace pairflow::pairs
