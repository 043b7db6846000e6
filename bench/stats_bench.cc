// Engle-Granger cointegration throughput (the screener's hot path): coint(y, x) with trend "c"
// and autolag AIC, n = 500 and 2000. Compare items_per_second with bench/stats_statsmodels.py.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "stats/adf.h"
#include "stats/coint.h"

namespace {

struct Pair {
  std::vector<double> y, x;
};

Pair make_pair(int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  Pair p{std::vector<double>(n), std::vector<double>(n)};
  double x = 100, u = 0;
  for (int i = 0; i < n; ++i) {
    x += z(rng);
    u = 0.8 * u + z(rng);
    p.x[i] = x;
    p.y[i] = 2.0 + 1.5 * x + u;
  }
  return p;
}

void BM_CointAic(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<Pair> pairs;
  for (unsigned s = 0; s < 16; ++s) pairs.push_back(make_pair(n, 42 + s));
  pairflow::stats::CointWorkspace ws;
  size_t i = 0;
  for (auto _ : state) {
    const Pair& p = pairs[i++ % pairs.size()];
    auto r = ws.run(p.y, p.x);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CointAic)->Arg(500)->Arg(2000);

void BM_AdfAic(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const Pair p = make_pair(n, 7);
  pairflow::stats::AdfWorkspace ws;
  for (auto _ : state) {
    auto r = ws.run(p.x);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AdfAic)->Arg(500)->Arg(2000);

}  // namespace

BENCHMARK_MAIN();
