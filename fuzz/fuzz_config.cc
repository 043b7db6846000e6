// The TOML config loader (demo.toml and friends) and the --set overrides: every input must load or
// fail with a UserError naming the problem.
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pairflow::fuzz::MemoryFile file(data, size);
  if (!file.ok()) return 0;
  try {
    pairflow::engine::EngineConfig config = pairflow::engine::load_config(file.path());
    // The file's lines again, as --set overrides.
    std::vector<std::string> overrides;
    std::string line;
    for (std::size_t i = 0; i < size && overrides.size() < 16; ++i) {
      if (data[i] == '\n') {
        overrides.push_back(line);
        line.clear();
      } else {
        line += static_cast<char>(data[i]);
      }
    }
    pairflow::engine::apply_overrides(config, overrides);
  } catch (const pairflow::UserError&) {
  }
  return 0;
}
