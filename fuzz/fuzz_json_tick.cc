// The JSON tick parser of the tick-reading jobs (bars, features, trader), with the timestamp and
// value checks that follow it, and the event-time extraction of the partition merge.
#include <cstdint>
#include <string>
#include <string_view>

#include "model/event_time.h"
#include "model/json_parse.h"
#include "model/tick_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static pairflow::TickParser parser;
  pairflow::SymbolTable symbols;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto tick = parser.parse(text, symbols);
  if (tick) {
    std::string why;
    (void)pairflow::check_tick_values(*tick, &why);
  }
  (void)pairflow::event_time_of(text);
  (void)pairflow::parse_timestamp(text);
  return 0;
}
