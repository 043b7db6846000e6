// The compact binary codec for the topic schemas of the brief, the alternative to JSON on Kafka.
//
// A message is "PF", a version byte (1), a schema byte, then the body.
//  - Fixed schemas (tick, bar, signal, order, execution, pnl): the schema's fields in order
//    (schema_fields): integers and doubles little-endian (8 bytes; u32 for counts and pair ids),
//    strings as a u16 length and bytes, enums as one byte. An absent optional double (bid, ask,
//    limit) is NaN, an absent pair id 0xffffffff. A quoted tick is 50 bytes where its JSON is
//    about 95.
//  - Record (schema 7), for topics without a fixed schema (features.*, user topics): any flat
//    JSON object of scalars. u16 field count, u16 byte length of the shape, the shape (per field:
//    u8 name length, name, u8 RecordType), then the values in field order (bool 1 byte, i64 and
//    f64 8 bytes, str u16 length and bytes, null nothing). Messages of one producer share their
//    shape, so a decoder compares the shape bytes with the previous message's and reuses its
//    column layout.
//
// The codec works between the JSON form (model/json.h, what jobs see) and bytes, so any job runs
// on binary topics unchanged: the runtime decodes input payloads to JSON and encodes outputs
// (fixed schema when the topic has one, else a record). Job hosts with a columnar path (Python's
// process_batch) read and write the bytes directly. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace pairflow {

enum class Schema : std::uint8_t { kTick = 1, kBar, kSignal, kOrder, kExecution, kPnl, kRecord };

inline constexpr std::uint8_t kBinaryVersion = 1;
inline constexpr std::size_t kBinaryHeaderSize = 4;
// The u32 of an absent optional pair id.
inline constexpr std::uint32_t kBinaryNoPairId = 0xffffffffu;

// The field kinds of the fixed schemas.
enum class BinaryKind : std::uint8_t { kI64, kU64, kU32, kOptU32, kF64, kStr, kEnum };
struct BinaryField {
  const char* name;
  BinaryKind kind;
  std::vector<const char*> values = {};  // kEnum: the names of the byte values 0, 1, ...
  // kStr: may be absent from the JSON form (written as an empty string, read back as absent).
  bool optional = false;
};
// The fields of a fixed schema, in wire order (empty for kRecord).
const std::vector<BinaryField>& schema_fields(Schema schema);

// The value types of a record field.
enum class RecordType : std::uint8_t { kNull = 0, kBool = 1, kI64 = 2, kF64 = 3, kStr = 4 };

// ticks -> Tick, bars.* -> Bar, pairs.signals -> Signal, orders, executions, pnl; other topics
// (features.*, dlq.*, user topics) have no fixed schema.
std::optional<Schema> schema_for_topic(std::string_view topic);

// The JSON object `json` in `schema`. kRecord takes any flat object (nested values are an error).
Result<std::string> json_to_binary(Schema schema, std::string_view json);
// A binary message (any schema) back to JSON text.
Result<std::string> binary_to_json(std::string_view bytes);
// True when the bytes start with the codec's header.
bool is_binary_message(std::string_view bytes);
// The schema of a binary message; an error for a foreign version or an unknown schema byte.
Result<Schema> binary_schema(std::string_view bytes);

// Little-endian field access for codecs (the machines we target are little-endian).
template <typename T>
void binary_put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}
template <typename T>
bool binary_get(std::string_view& in, T& value) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(&value, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

}  // namespace pairflow
