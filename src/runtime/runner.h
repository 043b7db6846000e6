// Drivers that feed a tick source through a Pipeline with the input policy of PipelineConfig:
// rejected rows are counted, and once more than `max_rejects` have been seen (0 = the first one,
// -1 = never) the run stops with a UserError "FILE:LINE: problem". With `speed` > 0 ticks are paced
// at `speed` times event time (1 = real time). Runs on the calling thread.
#pragma once

#include <string>

#include "runtime/pipeline.h"
#include "sim/market.h"

namespace pairflow::runtime {

Summary run_csv(const std::string& path, const PipelineConfig& config, SymbolTable& symbols,
                PipelineObserver* log);
Summary run_generated(sim::MarketGenerator& market, const PipelineConfig& config,
                      PipelineObserver* log);

}  // namespace pairflow::runtime
