// The compact binary codec for the topic schemas of the brief, the alternative to JSON on Kafka.
//
// A message is "PF", a version byte (1), a schema byte, then the schema's fields in order:
// integers and doubles little-endian (8 bytes; u32 for counts and pair ids), strings as a u16
// length and bytes, enums as one byte. An absent optional double (bid, ask, limit) is NaN, an
// absent pair id 0xffffffff. A quoted tick is 50 bytes where its JSON is about 95.
//
// The codec works between the JSON form (model/json.h, what jobs see) and bytes, so any job runs
// on binary topics unchanged: the runtime decodes input payloads to JSON and encodes outputs whose
// topic has a schema (schema_for_topic). Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace pairflow {

enum class Schema : std::uint8_t { kTick = 1, kBar, kSignal, kOrder, kExecution, kPnl };

// ticks -> Tick, bars.* -> Bar, pairs.signals -> Signal, orders, executions, pnl; other topics
// (features.*, dlq.*, user topics) have no schema and stay JSON.
std::optional<Schema> schema_for_topic(std::string_view topic);

Result<std::string> json_to_binary(Schema schema, std::string_view json);
Result<std::string> binary_to_json(std::string_view bytes);
// True when the bytes start with the codec's header.
bool is_binary_message(std::string_view bytes);

}  // namespace pairflow
