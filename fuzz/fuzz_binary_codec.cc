// The binary codec both ways: arbitrary bytes decoded (a corrupt payload must be an error, never a
// crash), and arbitrary text encoded in every schema; whatever encodes must decode again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "model/binary_codec.h"
#include "model/event_time.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto json = pairflow::binary_to_json(bytes)) {
    (void)pairflow::event_time_of(bytes);
  }
  (void)pairflow::binary_schema(bytes);
  for (int s = 1; s <= 7; ++s) {
    const auto schema = static_cast<pairflow::Schema>(s);
    auto encoded = pairflow::json_to_binary(schema, bytes);
    if (!encoded) continue;
    auto back = pairflow::binary_to_json(*encoded);
    if (!back) std::abort();  // what the codec wrote it must read
    (void)pairflow::event_time_of(*encoded);
  }
  return 0;
}
