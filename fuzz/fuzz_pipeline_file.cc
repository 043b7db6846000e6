// The pipeline-file loader: topics, jobs, params, cycles. Every input must load or fail with a
// UserError naming the file, never crash or hang.
#include <cstdint>
#include <string>

#include "app/pipeline_file.h"
#include "base/status.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pairflow::fuzz::MemoryFile file(data, size);
  if (!file.ok()) return 0;
  try {
    (void)pairflow::app::load_pipeline(file.path());
  } catch (const pairflow::UserError&) {
  }
  return 0;
}
