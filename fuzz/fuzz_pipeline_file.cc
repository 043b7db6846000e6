// The pipeline-file loader: topics, jobs, params, cycles. Every input must load or fail with a
// UserError naming the file, never crash or hang.
#include <cstdint>
#include <string>

#include "base/status.h"
#include "fuzz_support.h"
#include "runtime/pipeline_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pairflow::fuzz::MemoryFile file(data, size);
  if (!file.ok()) return 0;
  try {
    (void)pairflow::runtime::load_pipeline(file.path());
  } catch (const pairflow::UserError&) {
  }
  return 0;
}
