#include "engine/run_drivers.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "base/reject_policy.h"
#include "engine/tick_source.h"

namespace pairflow::engine {
namespace {

std::atomic<bool> g_stop{false};

// Paces replay against the wall clock when speed > 0; the observer runs while it waits.
class Pacer {
 public:
  Pacer(double speed, EngineObserver* observer, Engine& engine)
      : speed_(speed), observer_(observer), engine_(engine) {}
  void wait(Timestamp ts) {
    if (speed_ <= 0) return;
    using Clock = std::chrono::steady_clock;
    const Clock::time_point now = Clock::now();
    auto offset = std::chrono::nanoseconds(static_cast<std::int64_t>((ts - first_) / speed_));
    if (!started_ || wall_start_ + offset - now > std::chrono::seconds(1)) {
      // The first tick, or a gap (night, weekend) that would stall the replay: start from here.
      started_ = true;
      first_ = ts;
      wall_start_ = now;
      return;
    }
    const Clock::time_point until = wall_start_ + offset;
    while (Clock::now() < until && !g_stop.load(std::memory_order_relaxed)) {
      if (observer_) observer_->on_wait(engine_);
      std::this_thread::sleep_until(std::min(until, Clock::now() + std::chrono::milliseconds(20)));
    }
  }

 private:
  double speed_;
  EngineObserver* observer_;
  Engine& engine_;
  bool started_ = false;
  Timestamp first_ = 0;
  std::chrono::steady_clock::time_point wall_start_;
};

}  // namespace

void request_stop() { g_stop.store(true, std::memory_order_relaxed); }
bool stop_requested() { return g_stop.load(std::memory_order_relaxed); }

Summary run_ticks(const TickReader& next, const EngineConfig& config, SymbolTable& symbols,
                  EngineObserver* log, Engine::Locator location) {
  Engine pipeline(config, symbols, log);
  pipeline.set_location(std::move(location));
  RejectPolicy policy(config.max_rejects, "input.max_rejects");
  Pacer pacer(config.speed, log, pipeline);
  Tick tick;
  std::string error;
  for (;;) {
    if (stop_requested()) break;
    ReadResult r = next(tick, error);
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
  if (log) log->on_finish(pipeline);
  return pipeline.summary();
}

Summary run_csv(const std::string& path, const EngineConfig& config, SymbolTable& symbols,
                EngineObserver* log) {
  CsvTickSource source(path, symbols);
  return run_ticks(
      [&](Tick& tick, std::string& error) { return source.next(tick, error); }, config, symbols,
      log, [&source](const std::string& problem) { return source.reader().where(problem); });
}

FeatureRun run_features(const TickReader& next, features::FeaturePipeline& pipeline,
                        const BarRow& on_row, std::int64_t max_rejects, const std::string& setting,
                        const std::function<std::string(const std::string&)>& where) {
  RejectPolicy policy(max_rejects, setting);
  FeatureRun run;
  Tick tick;
  std::string error;
  while (true) {
    const ReadResult r = next(tick, error);
    if (r == ReadResult::kEnd) break;
    if (r == ReadResult::kBadRow) {
      policy.on_reject(error);
      continue;
    }
    Status s = pipeline.on_tick(tick, on_row);
    if (!s) {
      // Late ticks are part of the data, not errors: the pipeline counts them.
      if (s.code() == StatusCode::kOutOfOrder) continue;
      policy.on_reject(where(s.message()));
      continue;
    }
    ++run.ticks;
  }
  pipeline.flush(on_row);
  run.rejected = policy.count();
  run.first_reject = policy.first();
  return run;
}

Summary run_generated(sim::MarketGenerator& market, const EngineConfig& config,
                      EngineObserver* log) {
  Engine pipeline(config, market.symbols(), log);
  Pacer pacer(config.speed, log, pipeline);
  Tick tick;
  while (!stop_requested() && market.next(tick)) {
    pacer.wait(tick.ts);
    Status s = pipeline.on_tick(tick);
    // The generator validates its spec, so this means a market the spec allows but prices cannot
    // represent (e.g. volatilities that overflow): a user error, not a crash.
    if (!s) throw UserError("generated market produced an unusable tick: " + s.message());
  }
  pipeline.finish();
  if (log) log->on_finish(pipeline);
  return pipeline.summary();
}

}  // namespace pairflow::engine
