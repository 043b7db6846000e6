#include "model/event_time.h"

#include <simdjson.h>

#include <cstring>

#include "model/binary_codec.h"

namespace pairflow {
namespace {

std::optional<Timestamp> ts_at(std::string_view bytes, std::size_t offset) {
  if (bytes.size() < offset + sizeof(std::int64_t)) return std::nullopt;
  std::int64_t ts;
  std::memcpy(&ts, bytes.data() + offset, sizeof ts);
  return ts;
}

std::optional<Timestamp> json_ts(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element ts;
  if (parser.parse(json.data(), json.size()).at_key("ts").get(ts)) return std::nullopt;
  if (std::int64_t ns; !ts.get_int64().get(ns)) return ns;
  if (std::string_view text; !ts.get_string().get(text)) {
    if (auto parsed = parse_timestamp(text)) return *parsed;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Timestamp> event_time_of(std::string_view payload) {
  if (!is_binary_message(payload)) return json_ts(payload);
  auto schema = binary_schema(payload);
  if (!schema) return std::nullopt;
  switch (*schema) {
    case Schema::kTick:
    case Schema::kBar:
    case Schema::kSignal:
    case Schema::kPnl:
      return ts_at(payload, kBinaryHeaderSize);  // ts is the first field
    case Schema::kOrder:
    case Schema::kExecution:
      return ts_at(payload, kBinaryHeaderSize + 8);  // after the u64 client order id
    case Schema::kRecord:
      break;
  }
  auto json = binary_to_json(payload);
  return json ? json_ts(*json) : std::nullopt;
}

}  // namespace pairflow
