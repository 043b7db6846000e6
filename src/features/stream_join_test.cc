// Stream join semantics: as-of / interval matching, order independence within the lateness, late
// accounting, idle timeout, bounded state.
#include "features/stream_join.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>

namespace pairflow::features {
namespace {

struct Out {
  Timestamp ts;
  SymbolId key;
  std::vector<double> values;
  bool operator==(const Out& o) const {
    if (ts != o.ts || key != o.key || values.size() != o.values.size()) return false;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!(values[i] == o.values[i]) && !(std::isnan(values[i]) && std::isnan(o.values[i])))
        return false;
    }
    return true;
  }
};

struct Collect {
  std::vector<Out> rows;
  void operator()(const JoinedRow& r) {
    rows.push_back({r.ts, r.key, std::vector<double>(r.values.begin(), r.values.end())});
  }
};

std::vector<JoinInput> three_inputs(Timestamp lateness) {
  return {{"a", 1, lateness}, {"b", 1, lateness}, {"c", 2, lateness}};
}

Status add(StreamJoin& j, std::size_t input, Timestamp ts, SymbolId key,
           std::initializer_list<double> v, Collect& out) {
  return j.add(input, ts, key, std::span<const double>(v.begin(), v.size()), out);
}

TEST(StreamJoin, AsOfTakesLatestAtOrBeforeAndWaitsForWatermarks) {
  StreamJoin j({{"a", 1, 0}, {"b", 1, 0}}, JoinConfig{JoinMode::kAsOf, -1, 0});
  Collect out;
  ASSERT_TRUE(add(j, 1, 5, 0, {50}, out));
  ASSERT_TRUE(add(j, 1, 10, 0, {100}, out));
  ASSERT_TRUE(add(j, 0, 10, 0, {1}, out));
  ASSERT_TRUE(add(j, 0, 12, 1, {2}, out));  // key 1 has no b rows
  EXPECT_TRUE(out.rows.empty());            // b's watermark (10) has not passed 10
  ASSERT_TRUE(add(j, 1, 11, 0, {110}, out));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].values, (std::vector<double>{1, 100}));  // b@10, not b@11
  ASSERT_TRUE(add(j, 0, 20, 0, {3}, out));
  ASSERT_TRUE(add(j, 1, 30, 0, {300}, out));
  ASSERT_EQ(out.rows.size(), 2u);  // frontier 20: a@20 is not final yet
  EXPECT_EQ(out.rows[1].key, 1u);
  j.flush(out);
  ASSERT_EQ(out.rows.size(), 3u);
  EXPECT_TRUE(std::isnan(out.rows[1].values[1]));
  EXPECT_EQ(out.rows[2].values, (std::vector<double>{3, 110}));
}

TEST(StreamJoin, AsOfToleranceAndIntervalNearest) {
  {
    StreamJoin j({{"a", 1, 0}, {"b", 1, 0}}, JoinConfig{JoinMode::kAsOf, 5, 0});
    Collect out;
    ASSERT_TRUE(add(j, 1, 0, 0, {7}, out));
    ASSERT_TRUE(add(j, 0, 4, 0, {1}, out));
    ASSERT_TRUE(add(j, 0, 6, 0, {2}, out));
    j.flush(out);
    ASSERT_EQ(out.rows.size(), 2u);
    EXPECT_EQ(out.rows[0].values[1], 7);
    EXPECT_TRUE(std::isnan(out.rows[1].values[1]));  // 6 s old > tolerance 5
  }
  {
    StreamJoin j({{"a", 1, 0}, {"b", 1, 0}}, JoinConfig{JoinMode::kInterval, 3, 0});
    Collect out;
    ASSERT_TRUE(add(j, 1, 7, 0, {70}, out));
    ASSERT_TRUE(add(j, 1, 12, 0, {120}, out));
    ASSERT_TRUE(add(j, 0, 10, 0, {1}, out));    // 7 is 3 before, 12 is 2 after: nearest is 12
    ASSERT_TRUE(add(j, 0, 20, 0, {2}, out));    // nothing within 3
    EXPECT_TRUE(out.rows.empty());              // b's watermark 12 - 3 = 9 < 10
    ASSERT_TRUE(add(j, 1, 14, 0, {140}, out));  // frontier min(20, 11) = 11 > 10
    ASSERT_EQ(out.rows.size(), 1u);
    EXPECT_EQ(out.rows[0].values[1], 120);
    j.flush(out);
    ASSERT_EQ(out.rows.size(), 2u);
    EXPECT_TRUE(std::isnan(out.rows[1].values[1]));
  }
}

// A deterministic stream of rows for 3 inputs and `keys` keys, in event-time order.
struct Row {
  std::size_t input;
  Timestamp ts;
  SymbolId key;
  double v[2];
};

std::vector<Row> make_rows(int n, int keys, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Row> rows;
  Timestamp t = 1000;
  for (int i = 0; i < n; ++i) {
    t += 1 + static_cast<Timestamp>(rng() % 7);
    const std::size_t input = rng() % 3;
    const SymbolId key = static_cast<SymbolId>(rng() % keys);
    rows.push_back({input, t, key, {double(i), double(i) * 0.5}});
  }
  return rows;
}

std::vector<Out> run(const std::vector<Row>& rows, JoinConfig cfg, Timestamp lateness,
                     std::uint64_t* late = nullptr) {
  StreamJoin j(three_inputs(lateness), cfg);
  Collect out;
  std::uint64_t bad = 0;
  for (const Row& r : rows) {
    const std::size_t w = r.input == 2 ? 2 : 1;
    if (!j.add(r.input, r.ts, r.key, std::span<const double>(r.v, w), out)) ++bad;
  }
  j.flush(out);
  if (late) *late = bad;
  return out.rows;
}

TEST(StreamJoin, OutputIndependentOfArrivalOrderWithinLateness) {
  const Timestamp lateness = 50;
  const std::vector<Row> ordered = make_rows(20000, 7, 1);
  for (JoinConfig cfg : {JoinConfig{JoinMode::kAsOf, -1, 0}, JoinConfig{JoinMode::kAsOf, 20, 0},
                         JoinConfig{JoinMode::kInterval, 10, 0}}) {
    std::uint64_t late = 0;
    const std::vector<Out> want = run(ordered, cfg, lateness, &late);
    ASSERT_EQ(late, 0u);
    ASSERT_GT(want.size(), 6000u);
    for (std::uint64_t seed : {2, 3, 4}) {
      // Shuffle: sort by ts + a random delay below the lateness (per input, so every input's
      // rows stay within its lateness of its own maximum).
      std::mt19937_64 rng(seed);
      std::vector<std::pair<Timestamp, Row>> keyed;
      for (const Row& r : ordered) keyed.push_back({r.ts + Timestamp(rng() % lateness), r});
      std::stable_sort(keyed.begin(), keyed.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      std::vector<Row> shuffled;
      for (auto& [k, r] : keyed) shuffled.push_back(r);
      const std::vector<Out> got = run(shuffled, cfg, lateness, &late);
      EXPECT_EQ(late, 0u);
      ASSERT_EQ(got.size(), want.size());
      EXPECT_TRUE(got == want) << "seed " << seed;
      // Sorted by (ts, key).
      EXPECT_TRUE(std::is_sorted(got.begin(), got.end(), [](const Out& a, const Out& b) {
        return std::tie(a.ts, a.key) < std::tie(b.ts, b.key);
      }));
    }
  }
}

// The matches a join must find for rows that all arrive in time, by brute force over every row.
std::vector<Out> brute_force(const std::vector<Row>& rows, JoinConfig cfg) {
  std::vector<std::size_t> driving;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].input == 0) driving.push_back(i);
  }
  std::stable_sort(driving.begin(), driving.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(rows[a].ts, rows[a].key) < std::tie(rows[b].ts, rows[b].key);
  });
  std::vector<Out> out;
  for (std::size_t d : driving) {
    const Row& r = rows[d];
    Out o{r.ts, r.key, {r.v[0]}};
    for (std::size_t input = 1; input < 3; ++input) {
      // The latest row at or before r.ts and the earliest after it; among equal times, the last.
      const Row* prev = nullptr;
      const Row* next = nullptr;
      for (const Row& c : rows) {
        if (c.input != input || c.key != r.key) continue;
        if (c.ts <= r.ts && (!prev || c.ts >= prev->ts)) prev = &c;
        if (c.ts > r.ts && (!next || c.ts < next->ts || c.ts == next->ts)) next = &c;
      }
      if (prev && cfg.tolerance >= 0 && r.ts - prev->ts > cfg.tolerance) prev = nullptr;
      if (cfg.mode == JoinMode::kAsOf || (next && next->ts - r.ts > cfg.tolerance)) next = nullptr;
      const Row* match = prev;
      if (next && (!prev || next->ts - r.ts < r.ts - prev->ts)) match = next;
      const std::size_t w = input == 2 ? 2 : 1;
      for (std::size_t k = 0; k < w; ++k) o.values.push_back(match ? match->v[k] : kNaN);
    }
    out.push_back(o);
  }
  return out;
}

TEST(StreamJoin, MatchesBruteForceAcrossTimeScalesAndTies) {
  // Gaps from 0 (equal times, within and across keys) to hours, through 0 from negative times:
  // the pending driving rows are ordered by the bits of their times.
  std::mt19937_64 rng(11);
  const Timestamp gaps[] = {0, 0, 1, 7, 1'000, 123'456'789, 3'600'000'000'000};
  std::vector<Row> rows;
  Timestamp t = -40'000'000'000'000;
  for (int i = 0; i < 3000; ++i) {
    t += gaps[rng() % std::size(gaps)];
    rows.push_back({rng() % 3, t, static_cast<SymbolId>(rng() % 4), {double(i), -double(i)}});
  }
  for (JoinConfig cfg : {JoinConfig{JoinMode::kAsOf, -1, 0}, JoinConfig{JoinMode::kAsOf, 1'000, 0},
                         JoinConfig{JoinMode::kInterval, 1'000, 0}}) {
    std::uint64_t late = 0;
    const std::vector<Out> got = run(rows, cfg, 0, &late);
    EXPECT_EQ(late, 0u);
    const std::vector<Out> want = brute_force(rows, cfg);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_TRUE(got[i] == want[i]) << "row " << i << " of mode " << int(cfg.mode);
    }
  }
}

TEST(StreamJoin, RowsAddedAfterFlushAreEmittedInOrder) {
  StreamJoin j({{"a", 1, 100}, {"b", 1, 0}}, JoinConfig{JoinMode::kAsOf, -1, 0});
  Collect out;
  ASSERT_TRUE(add(j, 1, 0, 0, {7}, out));
  ASSERT_TRUE(add(j, 0, 10, 0, {1}, out));
  ASSERT_TRUE(add(j, 0, 20, 0, {2}, out));
  j.flush(out);
  ASSERT_EQ(out.rows.size(), 2u);
  // Older than rows flushed, but not late (the frontier is still 0).
  ASSERT_TRUE(add(j, 0, 5, 0, {3}, out));
  ASSERT_TRUE(add(j, 0, 3, 1, {4}, out));
  ASSERT_TRUE(add(j, 0, 5, 0, {5}, out));
  EXPECT_EQ(j.pending(), 3u);
  j.flush(out);
  ASSERT_EQ(out.rows.size(), 5u);
  EXPECT_EQ(out.rows[2].ts, 3);
  EXPECT_EQ(out.rows[2].values[0], 4);
  EXPECT_TRUE(std::isnan(out.rows[2].values[1]));  // key 1 has no b rows
  EXPECT_EQ(out.rows[3].values, (std::vector<double>{3, 7}));
  EXPECT_EQ(out.rows[4].values, (std::vector<double>{5, 7}));
  EXPECT_EQ(j.pending(), 0u);
}

TEST(StreamJoin, LateRowsAreCountedNotApplied) {
  StreamJoin j({{"a", 1, 10}, {"b", 1, 10}}, JoinConfig{});
  Collect out;
  ASSERT_TRUE(add(j, 1, 100, 0, {1}, out));
  ASSERT_TRUE(add(j, 1, 95, 0, {2}, out));  // within lateness
  Status s = add(j, 1, 89, 0, {3}, out);    // watermark 90
  EXPECT_EQ(s.code(), StatusCode::kOutOfOrder);
  EXPECT_EQ(j.late(1, LateReason::kBehindWatermark), 1u);
  ASSERT_TRUE(add(j, 0, 200, 0, {9}, out));
  ASSERT_TRUE(add(j, 0, 195, 0, {8}, out));
  EXPECT_FALSE(add(j, 0, 100, 0, {7}, out));  // driving watermark 190
  EXPECT_EQ(j.late(0, LateReason::kBehindWatermark), 1u);
  EXPECT_EQ(j.rows_in(0), 2u);
  EXPECT_EQ(j.rows_in(1), 2u);
  j.flush(out);
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.rows[0].values[1], 1);  // b@100, the late b@89 was not applied
}

TEST(StreamJoin, IdleInputStopsHoldingTheJoinBack) {
  for (Timestamp idle : {Timestamp{0}, Timestamp{100}}) {
    StreamJoin j({{"a", 1, 0}, {"b", 1, 0}, {"c", 1, 0}}, JoinConfig{JoinMode::kAsOf, -1, idle});
    Collect out;
    ASSERT_TRUE(add(j, 2, 0, 0, {5}, out));
    ASSERT_TRUE(add(j, 1, 0, 0, {6}, out));
    for (Timestamp t = 1; t <= 500; ++t) {
      ASSERT_TRUE(add(j, 0, t, 0, {double(t)}, out));
      ASSERT_TRUE(add(j, 1, t, 0, {double(t)}, out));  // c stays silent
    }
    if (idle == 0) {
      EXPECT_TRUE(out.rows.empty());  // c's watermark 0 holds everything back
      EXPECT_EQ(j.pending(), 500u);
    } else {
      EXPECT_TRUE(j.idle(2));
      EXPECT_EQ(out.rows.size(), 499u);  // all but the newest driving row
      EXPECT_EQ(out.rows.back().values[2], 5);
      // c wakes up with a row for a time already emitted: late, counted.
      EXPECT_FALSE(add(j, 2, 300, 0, {7}, out));
      EXPECT_EQ(j.late(2, LateReason::kAfterEmit), 1u);
      ASSERT_TRUE(add(j, 2, 500, 0, {8}, out));  // in time: c active again
      EXPECT_FALSE(j.idle(2));
    }
  }
}

TEST(StreamJoin, StateStaysBoundedOverALongRun) {
  const Timestamp lateness = 100;
  StreamJoin asof(three_inputs(lateness), JoinConfig{JoinMode::kAsOf, -1, 0});
  StreamJoin interval(three_inputs(lateness), JoinConfig{JoinMode::kInterval, 30, 0});
  std::size_t max_asof = 0, max_interval = 0;
  std::uint64_t emitted = 0;
  auto count = [&](const JoinedRow&) { ++emitted; };
  std::mt19937_64 rng(5);
  Timestamp t = 0;
  const int keys = 50;
  for (int i = 0; i < 1'000'000; ++i) {
    t += 1;
    const double v[2] = {double(i), 1.0};
    for (std::size_t input = 0; input < 3; ++input) {
      const SymbolId key = static_cast<SymbolId>(rng() % keys);
      const Timestamp ts = t - static_cast<Timestamp>(rng() % lateness);
      const std::size_t w = input == 2 ? 2 : 1;
      (void)asof.add(input, ts, key, std::span<const double>(v, w), count);
      (void)interval.add(input, ts, key, std::span<const double>(v, w), count);
    }
    max_asof = std::max(max_asof, asof.state_rows());
    max_interval = std::max(max_interval, interval.state_rows());
  }
  // Rows inside the lateness + tolerance windows plus a sweep period, independent of run length.
  EXPECT_LT(max_asof, 3u * 3000u);
  EXPECT_LT(max_interval, 3u * 3000u);
  EXPECT_GT(emitted, 1'900'000u);
}

}  // namespace
}  // namespace pairflow::features
