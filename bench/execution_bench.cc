// Execution latency, in process: from the decision at a bar's close (a spread intent for a pair)
// to both legs having passed pre-trade risk, been filled by the paper broker and booked in the
// portfolio - the path `pairflow demo` and the `execution` job run per decision. Every risk rule
// is on (limits far from binding, so each is evaluated and passes). Prints p50 / p99 / p99.9 /
// max per configuration, and the journal's cost as a ratio against the same run without it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "exec/execution_stage.h"

namespace pairflow {
namespace {

constexpr Timestamp kSec = 1'000'000'000;
constexpr Timestamp kT0 = 1'700'000'000 * kSec;

struct Quiet : exec::StageEvents {
  std::uint64_t fills = 0;
  void on_execution(const Execution& e) override { fills += e.qty > 0; }
};

exec::StageConfig config(const std::string& journal) {
  exec::StageConfig c;
  c.initial_capital = 1e9;
  exec::RiskLimits& r = c.exec.risk;
  r.max_order_qty = 1e7;
  r.max_order_notional = 1e10;
  r.max_position_qty = 1e8;
  r.max_position_notional = 1e11;
  r.max_gross_exposure = 1e12;
  r.max_net_exposure = 1e12;
  r.max_pair_capital = 1e11;
  r.price_collar_bps = 500;
  r.max_quote_age = 60 * kSec;
  r.max_orders_per_second = 1e6;
  r.duplicate_window = 1;
  r.daily_loss_limit = 1e9;
  r.max_drawdown = 1e9;
  r.max_unhedged_notional = 1e11;
  c.journal_path = journal;
  c.journal_full_sync = false;
  c.paper.fees.commission_bps = 0.5;
  return c;
}

struct Latencies {
  std::vector<double> ns;
  double p(double q) const {
    return ns[std::min(ns.size() - 1,
                       static_cast<std::size_t>(q * static_cast<double>(ns.size())))];
  }
};

Latencies run(const std::string& journal, int decisions) {
  SymbolTable symbols;
  const SymbolId a = symbols.intern("AAA"), b = symbols.intern("BBB");
  Quiet events;
  exec::ExecutionStage stage(config(journal), symbols, events);
  stage.start(kT0);
  Latencies r;
  r.ns.reserve(decisions);
  for (int i = 0; i < decisions; ++i) {
    const Timestamp now = kT0 + static_cast<Timestamp>(i + 1) * 60 * kSec;
    // The bar's last quotes (not timed: they are the market, not the decision).
    const double wiggle = 0.01 * (i % 7);
    stage.on_tick(Tick{.ts = now - 1,
                       .symbol = a,
                       .price = 100 + wiggle,
                       .size = 100,
                       .bid = 99.99 + wiggle,
                       .ask = 100.01 + wiggle});
    stage.on_tick(Tick{.ts = now - 1,
                       .symbol = b,
                       .price = 50 - wiggle,
                       .size = 100,
                       .bid = 49.99 - wiggle,
                       .ask = 50.01 - wiggle});
    const bool entry = i % 2 == 0;
    const exec::IntentKind kind = entry ? exec::IntentKind::kEntry : exec::IntentKind::kExit;
    exec::SpreadIntent intent{.id = exec::intent_id(0, now, kind),
                              .pair = 0,
                              .ts = now,
                              .kind = kind,
                              .y = {a, entry ? 100.0 : 0.0},
                              .x = {b, entry ? -200.0 : 0.0},
                              .hedge_ratio = 1};
    const std::uint64_t before = events.fills;
    const auto t0 = std::chrono::steady_clock::now();
    stage.on_intent(intent);  // risk, journal, send
    stage.poll_broker();      // the paper broker fills at the touch; the fills are booked
    const auto t1 = std::chrono::steady_clock::now();
    if (events.fills != before + 2) {
      std::fprintf(stderr, "bench_execution: decision %d did not fill both legs\n", i);
      std::exit(1);
    }
    r.ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
    stage.on_slice(now);
  }
  std::sort(r.ns.begin(), r.ns.end());
  return r;
}

void print(const char* name, const Latencies& r) {
  std::printf("%-34s n=%zu  p50 %7.2f us  p99 %7.2f us  p99.9 %7.2f us  max %8.2f us\n", name,
              r.ns.size(), r.p(0.5) / 1e3, r.p(0.99) / 1e3, r.p(0.999) / 1e3, r.ns.back() / 1e3);
}

}  // namespace
}  // namespace pairflow

int main(int argc, char** argv) {
  using namespace pairflow;
  const bool memory_only = argc > 1 && std::string(argv[1]) == "--memory-only";  // for profiling
  const int n = 100'000;
  run("", 2'000);  // warm-up
  const Latencies memory = run("", n);
  print("bar -> risk -> fill -> booked", memory);
  if (memory_only) return 0;
  const std::string path = (std::filesystem::temp_directory_path() / "bench_execution.db").string();
  std::filesystem::remove(path);
  const Latencies journaled = run(path, n / 5);
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  print("same + SQLite journal (sync normal)", journaled);
  std::printf("target p99 <= 20 us (no journal): %s; journal / no journal at p50: %.1fx\n",
              memory.p(0.99) <= 20'000 ? "met" : "NOT met", journaled.p(0.5) / memory.p(0.5));
  return 0;
}
