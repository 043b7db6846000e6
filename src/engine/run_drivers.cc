#include "engine/run_drivers.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "base/reject_policy.h"
#include "engine/tick_source.h"

namespace pairflow::engine {
namespace {

// Paces replay against the wall clock when speed > 0.
class Pacer {
 public:
  explicit Pacer(double speed) : speed_(speed) {}
  void wait(Timestamp ts) {
    if (speed_ <= 0) return;
    if (!started_) {
      started_ = true;
      first_ = ts;
      wall_start_ = std::chrono::steady_clock::now();
      return;
    }
    auto offset = std::chrono::nanoseconds(static_cast<std::int64_t>((ts - first_) / speed_));
    std::this_thread::sleep_until(wall_start_ + offset);
  }

 private:
  double speed_;
  bool started_ = false;
  Timestamp first_ = 0;
  std::chrono::steady_clock::time_point wall_start_;
};

}  // namespace

Summary run_csv(const std::string& path, const EngineConfig& config, SymbolTable& symbols,
                EngineObserver* log) {
  CsvTickSource source(path, symbols);
  Engine pipeline(config, symbols, log);
  pipeline.set_location(&source.reader());
  RejectPolicy policy(config.max_rejects, "input.max_rejects");
  Pacer pacer(config.speed);
  Tick tick;
  std::string error;
  for (;;) {
    ReadResult r = source.next(tick, error);
    if (r == ReadResult::kEnd) break;
    if (r == ReadResult::kBadRow) {
      pipeline.count_reject(RejectReason::kMalformed, error);
      policy.on_reject(error);
      continue;
    }
    pacer.wait(tick.ts);
    Status s = pipeline.on_tick(tick);
    if (!s) policy.on_reject(s.message());
  }
  pipeline.finish();
  return pipeline.summary();
}

Summary run_generated(sim::MarketGenerator& market, const EngineConfig& config,
                      EngineObserver* log) {
  Engine pipeline(config, market.symbols(), log);
  Pacer pacer(config.speed);
  Tick tick;
  while (market.next(tick)) {
    pacer.wait(tick.ts);
    Status s = pipeline.on_tick(tick);
    // The generator validates its spec, so this means a market the spec allows but prices cannot
    // represent (e.g. volatilities that overflow): a user error, not a crash.
    if (!s) throw UserError("generated market produced an unusable tick: " + s.message());
  }
  pipeline.finish();
  return pipeline.summary();
}

}  // namespace pairflow::engine
