// The ticks CSV reader and what runs on every row it yields: value checks and the bar aggregator.
// Any input must end in rows, counted rejects or a UserError, never a crash.
#include <cstdint>
#include <string>

#include "base/status.h"
#include "engine/tick_source.h"
#include "features/time_bars.h"
#include "fuzz_support.h"
#include "model/tick_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pairflow::fuzz::MemoryFile file(data, size);
  if (!file.ok()) return 0;
  try {
    pairflow::SymbolTable symbols;
    pairflow::engine::CsvTickSource source(file.path(), symbols);
    pairflow::features::TimeBarAggregator bars(pairflow::kNanosPerMinute,
                                               pairflow::kNanosPerSecond);
    pairflow::Tick tick;
    std::string error;
    for (int rows = 0; rows < 100000; ++rows) {
      const auto r = source.next(tick, error);
      if (r == pairflow::engine::ReadResult::kEnd) break;
      if (r == pairflow::engine::ReadResult::kBadRow) continue;
      std::string why;
      if (pairflow::check_tick_values(tick, &why)) continue;
      (void)bars.on_tick(tick, [](pairflow::Timestamp, auto) {});
    }
    bars.flush([](pairflow::Timestamp, auto) {});
  } catch (const pairflow::UserError&) {
  }
  return 0;
}
