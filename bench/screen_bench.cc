// Benchmarks of the all-pairs screener and the pair actors (Google Benchmark).
//   BM_ScreenUpdate/N      per-bar update of the rolling Gram matrices (W = 390), amortised over
//                          the batched dsyr2k flushes and the periodic exact rebuild
//   BM_ScreenFull/N        one full screen (correlation pass, DF pre-screen, EG on survivors)
//   BM_ActorsStep/threads  one bar for 100,000 active pairs (items/s = pair-actor updates/s)
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "base/random.h"
#include "pairs/actors.h"
#include "screen/screener.h"

namespace pairflow {
namespace {

// Correlated random walks: one market factor plus idiosyncratic noise.
struct Walks {
  explicit Walks(int n) : level(n, 4.0), rng(7) {}
  const std::vector<double>& next() {
    const double m = rng.normal() * 1e-3;
    for (auto& l : level) l += 0.6 * m + rng.normal() * 8e-4;
    return level;
  }
  std::vector<double> level;
  Rng rng;
};

void BM_ScreenUpdate(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  screen::ScreenerConfig config;
  config.window = 390;
  config.update_block = 16;
  screen::Screener screener(n, config);
  Walks walks(n);
  for (int t = 0; t < 391; ++t) screener.on_bar(walks.next());
  for (auto _ : state) screener.on_bar(walks.next());
  screener.flush();
  state.counters["matrix_MiB"] = 2.0 * n * n * 8 / (1 << 20);
}
BENCHMARK(BM_ScreenUpdate)
    ->Arg(500)
    ->Arg(1000)
    ->Arg(2000)
    ->Arg(5000)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0)
    ->UseRealTime();

void BM_ScreenFull(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  screen::ScreenerConfig config;
  screen::Screener screener(n, config);
  Walks walks(n);
  for (int t = 0; t < 391; ++t) screener.on_bar(walks.next());
  screen::ScreenResult result;
  for (auto _ : state) screener.screen(result);
  state.counters["corr_passed"] = static_cast<double>(result.corr_passed);
  state.counters["prescreen_passed"] = static_cast<double>(result.prescreen_passed);
  state.counters["candidates"] = static_cast<double>(result.candidates.size());
}
BENCHMARK(BM_ScreenFull)
    ->Arg(500)
    ->Arg(1000)
    ->Arg(2000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_ActorsStep(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const int symbols = 2000, pairs = 100000;
  pairs::ActorsConfig config;
  config.window = 120;
  config.threads = threads;
  config.hedge = state.range(1) ? pairs::HedgeMethod::kKalman : pairs::HedgeMethod::kRollingOls;
  config.kalman.ve = 1e-6;
  config.kalman.delta = 1e-6;
  pairs::PairActors actors(symbols, config);
  Rng rng(3);
  for (PairId id = 0; id < static_cast<PairId>(pairs); ++id) {
    pairs::PairSpec spec;
    spec.id = id;
    spec.y = static_cast<SymbolId>(rng.next_u64() % symbols);
    spec.x = static_cast<SymbolId>((spec.y + 1 + rng.next_u64() % (symbols - 1)) % symbols);
    actors.post_activate(spec);
  }
  Walks walks(symbols);
  Timestamp ts = 0;
  for (int t = 0; t < 130; ++t) actors.step(ts++, walks.next());
  std::size_t signals = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const auto& bar = walks.next();
    state.ResumeTiming();
    signals += actors.step(ts++, bar).size();
  }
  state.SetItemsProcessed(state.iterations() * pairs);
  state.counters["state_bytes_per_pair"] =
      static_cast<double>(pairs::PairActors::state_bytes_per_pair(config.hedge));
  state.counters["window_bytes_per_pair"] = config.window * 2 * sizeof(double);
  state.counters["signals_per_bar"] =
      static_cast<double>(signals) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ActorsStep)
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({2, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace pairflow

BENCHMARK_MAIN();
