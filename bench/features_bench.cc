// Throughput of the feature engine on one core: ticks through 1-second bars and six indicators for
// 500 symbols (from an in-memory tick array, and from CSV), and rows through a three-input stream
// join. Targets (issue 6): >= 10M ticks/s, >= 3M ticks/s including CSV, >= 5M joined rows/s.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/tick_source.h"
#include "features/feature_pipeline.h"
#include "features/stream_join.h"

namespace pairflow {
namespace {

constexpr int kSymbols = 500;
constexpr int kTicks = 4'000'000;  // 800 s of event time at 5,000 ticks/s (10/s per symbol)
constexpr const char* kIndicators = "ema:10,sma:20,rsi:14,atr:14,zscore:20,ewmvol:20";

// Portable, seeded generator (splitmix64) so every run sees the same ticks.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return (next() >> 11) * 0x1.0p-53; }
};

const std::vector<Tick>& ticks() {
  static const std::vector<Tick> all = [] {
    std::vector<Tick> out;
    out.reserve(kTicks);
    Rng rng{42};
    std::vector<double> price(kSymbols);
    for (int s = 0; s < kSymbols; ++s) price[s] = 20 + 2 * s % 300;
    Timestamp t = 1'704'205'800LL * kNanosPerSecond;
    for (int i = 0; i < kTicks; ++i) {
      t += 1 + static_cast<Timestamp>(rng.uniform() * 399'999);  // mean 200 us
      const SymbolId s = static_cast<SymbolId>(rng.next() % kSymbols);
      price[s] *= 1 + 0.0005 * (rng.uniform() - 0.5);
      Tick tick;
      tick.ts = t;
      tick.symbol = s;
      tick.price = std::round(price[s] * 100) / 100;
      tick.size = static_cast<double>(1 + rng.next() % 500);
      out.push_back(tick);
    }
    return out;
  }();
  return all;
}

features::FeaturePipeline make_pipeline(const SymbolTable* symbols) {
  features::BarSpec spec;
  spec.kind = features::BarKind::kTime;
  spec.interval = kNanosPerSecond;
  return features::FeaturePipeline(spec, *features::parse_indicators(kIndicators), symbols);
}

void BM_BarsAndIndicatorsInMemory(benchmark::State& state) {
  const auto& in = ticks();
  std::uint64_t rows = 0;
  double sink = 0;
  for (auto _ : state) {
    features::FeaturePipeline p = make_pipeline(nullptr);
    auto on_row = [&](const Bar&, std::span<const double> v) {
      ++rows;
      sink += v[0];
    };
    for (const Tick& t : in) (void)p.on_tick(t, on_row);
    p.flush(on_row);
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kTicks);
  state.counters["bars"] = benchmark::Counter(static_cast<double>(rows) / state.iterations());
  state.SetLabel("ticks/s; 1 s bars, 500 symbols, 6 indicators");
}
BENCHMARK(BM_BarsAndIndicatorsInMemory)->Unit(benchmark::kMillisecond);

// Bars alone, for the split of the cost.
void BM_BarsOnlyInMemory(benchmark::State& state) {
  const auto& in = ticks();
  std::uint64_t bars = 0;
  for (auto _ : state) {
    features::TimeBarAggregator agg(kNanosPerSecond);
    for (const Tick& t : in)
      (void)agg.on_tick(t, [&](Timestamp, std::span<const Bar> s) { bars += s.size(); });
    benchmark::DoNotOptimize(bars);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kTicks);
  state.SetLabel("ticks/s; 1 s bars, 500 symbols");
}
BENCHMARK(BM_BarsOnlyInMemory)->Unit(benchmark::kMillisecond);

const std::string& csv_path() {
  static const std::string path = [] {
    std::string p = "/tmp/pairflow_features_bench_ticks.csv";
    std::FILE* f = std::fopen(p.c_str(), "w");
    std::fputs("ts,symbol,price,size\n", f);
    for (const Tick& t : ticks())
      std::fprintf(f, "%lld,S%03u,%.2f,%.0f\n", static_cast<long long>(t.ts), t.symbol, t.price,
                   t.size);
    std::fclose(f);
    return p;
  }();
  return path;
}

void BM_BarsAndIndicatorsFromCsv(benchmark::State& state) {
  const std::string& path = csv_path();
  std::uint64_t n = 0;
  double sink = 0;
  for (auto _ : state) {
    SymbolTable symbols;
    engine::CsvTickSource source(path, symbols);
    features::FeaturePipeline p = make_pipeline(&symbols);
    auto on_row = [&](const Bar&, std::span<const double> v) { sink += v[0]; };
    Tick t;
    std::string error;
    while (source.next(t, error) == engine::ReadResult::kTick) {
      (void)p.on_tick(t, on_row);
      ++n;
    }
    p.flush(on_row);
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
  state.SetLabel("ticks/s incl. CSV parsing (epoch-ns timestamps)");
}
BENCHMARK(BM_BarsAndIndicatorsFromCsv)->Unit(benchmark::kMillisecond);

// Three inputs (one driving, two joined), 500 keys, rows arriving up to 50 ms out of order within
// a 100 ms lateness; as-of mode.
void BM_StreamJoin3(benchmark::State& state) {
  struct Row {
    std::uint8_t input;
    SymbolId key;
    Timestamp ts;
    double v[2];
  };
  static const std::vector<Row> rows = [] {
    std::vector<Row> out;
    Rng rng{7};
    Timestamp t = 0;
    for (int i = 0; i < 3'000'000; ++i) {
      t += 10'000;  // 10 us
      Row r;
      r.input = static_cast<std::uint8_t>(i % 3);
      r.key = static_cast<SymbolId>(rng.next() % kSymbols);
      r.ts = t - static_cast<Timestamp>(rng.uniform() * 50'000'000);
      r.v[0] = rng.uniform();
      r.v[1] = rng.uniform();
      out.push_back(r);
    }
    return out;
  }();
  const features::JoinMode mode =
      state.range(0) == 0 ? features::JoinMode::kAsOf : features::JoinMode::kInterval;
  std::uint64_t out_rows = 0;
  for (auto _ : state) {
    const Timestamp lateness = 100'000'000;
    features::StreamJoin join(
        {{"bars", 2, lateness}, {"vol", 1, lateness}, {"hurst", 1, lateness}},
        features::JoinConfig{
            mode, mode == features::JoinMode::kAsOf ? Timestamp{-1} : Timestamp{5'000'000}, 0});
    double sink = 0;
    auto on_row = [&](const features::JoinedRow& r) {
      ++out_rows;
      sink += r.values[0];
    };
    for (const Row& r : rows) {
      (void)join.add(r.input, r.ts, r.key, std::span<const double>(r.v, r.input == 0 ? 2 : 1),
                     on_row);
    }
    join.flush(on_row);
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows.size()));
  state.counters["joined_rows/s"] =
      benchmark::Counter(static_cast<double>(out_rows), benchmark::Counter::kIsRate);
  state.SetLabel(mode == features::JoinMode::kAsOf ? "input rows/s, as-of"
                                                   : "input rows/s, interval +-5 ms");
}
BENCHMARK(BM_StreamJoin3)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pairflow

BENCHMARK_MAIN();
