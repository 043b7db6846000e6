// Drivers that feed a tick source through an Engine with the input policy of EngineConfig:
// rejected rows are counted, and once more than `max_rejects` have been seen (0 = the first one,
// -1 = never) the run stops with a UserError "FILE:LINE: problem". With `speed` > 0 ticks are paced
// at `speed` times event time (1 = real time); a gap that would take more than a second of wall
// time (a night, a weekend) is skipped, and the observer's on_wait() runs at most ~20 ms apart
// while the driver waits. request_stop() (any thread, async-signal-safe) ends the input early: the
// run finishes as if the input had ended there. Runs on the calling thread.
#pragma once

#include <functional>
#include <string>

#include "engine/engine.h"
#include "engine/tick_source.h"
#include "features/feature_pipeline.h"
#include "sim/market.h"

namespace pairflow::engine {

void request_stop();
bool stop_requested();

Summary run_csv(const std::string& path, const EngineConfig& config, SymbolTable& symbols,
                EngineObserver* log);
// Ticks from any reader: `next` fills a tick (kTick), reports a bad row with its reason (kBadRow,
// counted under the input policy) or the end (kEnd). A recorded history replays through this.
using TickReader = std::function<ReadResult(Tick& tick, std::string& error)>;
Summary run_ticks(const TickReader& next, const EngineConfig& config, SymbolTable& symbols,
                  EngineObserver* log, Engine::Locator location = {});
// Bars and indicators of a tick input (`pairflow features`, pairflow.features.bars in Python):
// every tick through `pipeline`, each closed bar's row to `on_row`, the last partial bars flushed
// at the end. Rows the reader cannot use (kBadRow) and ticks the pipeline rejects are counted
// under `max_rejects` (0 = the first one stops the run with a UserError naming it, -1 = never,
// `setting` names the knob); late ticks are part of the data, counted by the pipeline, not
// rejects. `where` turns a rejected tick's reason into "LOCATION: reason".
struct FeatureRun {
  std::uint64_t ticks = 0;    // accepted
  std::int64_t rejected = 0;  // bad rows and rejected ticks
  std::string first_reject;   // "LOCATION: reason"
};
using BarRow = std::function<void(const Bar& bar, std::span<const double> values)>;
FeatureRun run_features(const TickReader& next, features::FeaturePipeline& pipeline,
                        const BarRow& on_row, std::int64_t max_rejects, const std::string& setting,
                        const std::function<std::string(const std::string&)>& where);

Summary run_generated(sim::MarketGenerator& market, const EngineConfig& config,
                      EngineObserver* log);

}  // namespace pairflow::engine
