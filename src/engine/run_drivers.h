// Drivers that feed a tick source through an Engine with the input policy of EngineConfig:
// rejected rows are counted, and once more than `max_rejects` have been seen (0 = the first one,
// -1 = never) the run stops with a UserError "FILE:LINE: problem". With `speed` > 0 ticks are paced
// at `speed` times event time (1 = real time). Runs on the calling thread.
#pragma once

#include <string>

#include "engine/engine.h"
#include "sim/market.h"

namespace pairflow::engine {

Summary run_csv(const std::string& path, const EngineConfig& config, SymbolTable& symbols,
                EngineObserver* log);
Summary run_generated(sim::MarketGenerator& market, const EngineConfig& config,
                      EngineObserver* log);

}  // namespace pairflow::engine
