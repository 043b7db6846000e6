// The readers of `pairflow stats` (named columns) and `pairflow screen` (wide price files).
#include <cstdint>

#include "base/status.h"
#include "base/table_csv.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pairflow::fuzz::MemoryFile file(data, size);
  if (!file.ok()) return 0;
  for (bool take_log : {false, true}) {
    try {
      (void)pairflow::read_wide_csv(file.path(), take_log);
    } catch (const pairflow::UserError&) {
    }
    try {
      pairflow::ColumnFile columns(file.path(), {}, take_log);
    } catch (const pairflow::UserError&) {
    }
  }
  return 0;
}
