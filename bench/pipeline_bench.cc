// Throughput of the embedded pipeline's stages on the synthetic market, ticks pre-generated in
// memory so that only the measured stage runs in the timed loop.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "engine/run_drivers.h"
#include "engine/tick_source.h"
#include "features/time_bars.h"

namespace pairflow {
namespace {

engine::EngineConfig bench_config() {
  engine::EngineConfig c;
  c.market.symbols = 50;
  c.market.sessions = 2;
  return c;
}

const std::vector<Tick>& ticks() {
  static const std::vector<Tick> all = [] {
    sim::MarketGenerator gen(bench_config().market);
    std::vector<Tick> out;
    Tick t;
    while (gen.next(t)) out.push_back(t);
    return out;
  }();
  return all;
}

void BM_GenerateMarket(benchmark::State& state) {
  std::int64_t n = 0;
  for (auto _ : state) {
    sim::MarketGenerator gen(bench_config().market);
    Tick t;
    while (gen.next(t)) ++n;
  }
  state.SetItemsProcessed(n);
  state.SetLabel("ticks/s");
}
BENCHMARK(BM_GenerateMarket)->Unit(benchmark::kMillisecond);

void BM_TimeBars(benchmark::State& state) {
  const auto& in = ticks();
  std::size_t bars = 0;
  for (auto _ : state) {
    features::TimeBarAggregator agg(kNanosPerMinute);
    for (const Tick& t : in) {
      (void)agg.on_tick(t, [&](Timestamp, std::span<const Bar> slice) { bars += slice.size(); });
    }
    benchmark::DoNotOptimize(bars);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
  state.SetLabel("ticks/s");
}
BENCHMARK(BM_TimeBars)->Unit(benchmark::kMillisecond);

// Whole pipeline: validation, bars, discovery over 1,225 pairs after one session, pair models,
// portfolio, paper broker.
void BM_Pipeline(benchmark::State& state) {
  const auto& in = ticks();
  sim::MarketGenerator gen(bench_config().market);  // for the symbol table
  for (auto _ : state) {
    engine::Engine pipeline(bench_config(), gen.symbols());
    for (const Tick& t : in) (void)pipeline.on_tick(t);
    pipeline.finish();
    benchmark::DoNotOptimize(pipeline.summary().net_pnl);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
  state.SetLabel("ticks/s");
}
BENCHMARK(BM_Pipeline)->Unit(benchmark::kMillisecond);

// CSV parsing alone (the tick source), over a file written once.
void BM_CsvTickSource(benchmark::State& state) {
  const std::string path = "/tmp/pairflow_bench_ticks.csv";
  static bool written = [&] {
    sim::MarketGenerator gen(bench_config().market);
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fprintf(f, "ts,symbol,price,size,bid,ask\n");
    for (const Tick& t : ticks()) {
      std::fprintf(f, "%s,%s,%.2f,%.0f,%.2f,%.2f\n", format_timestamp(t.ts).c_str(),
                   gen.symbols().name(t.symbol).c_str(), t.price, t.size, t.bid, t.ask);
    }
    std::fclose(f);
    return true;
  }();
  (void)written;
  std::int64_t n = 0;
  for (auto _ : state) {
    SymbolTable symbols;
    engine::CsvTickSource source(path, symbols);
    Tick t;
    std::string error;
    while (source.next(t, error) != engine::ReadResult::kEnd) ++n;
  }
  state.SetItemsProcessed(n);
  state.SetLabel("rows/s");
}
BENCHMARK(BM_CsvTickSource)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pairflow

BENCHMARK_MAIN();
