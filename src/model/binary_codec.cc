#include "model/binary_codec.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "model/json.h"
#include "model/topics.h"

namespace pairflow {
namespace {

using Kind = BinaryKind;
using Field = BinaryField;

// Field names and strings longer than the u8 / u16 lengths of the wire cannot be encoded.
constexpr std::size_t kMaxName = 0xff;
constexpr std::size_t kMaxString = 0xffff;

Status bad_field(const Field& f, const char* problem) {
  return Status(StatusCode::kParseError, fmt::format("field '{}' {}", f.name, problem));
}

}  // namespace

const std::vector<BinaryField>& schema_fields(Schema schema) {
  static const std::vector<Field> kTick = {{"ts", Kind::kI64},    {"symbol", Kind::kStr},
                                           {"price", Kind::kF64}, {"size", Kind::kF64},
                                           {"bid", Kind::kF64},   {"ask", Kind::kF64}};
  static const std::vector<Field> kBar = {
      {"ts", Kind::kI64},     {"symbol", Kind::kStr}, {"open", Kind::kF64},
      {"high", Kind::kF64},   {"low", Kind::kF64},    {"close", Kind::kF64},
      {"volume", Kind::kF64}, {"vwap", Kind::kF64},   {"count", Kind::kU32}};
  static const std::vector<Field> kSignal = {
      {"ts", Kind::kI64},
      {"pair", Kind::kU32},
      {"z", Kind::kF64},
      {"hedge_ratio", Kind::kF64},
      {"action", Kind::kEnum, {"hold", "enter_long", "enter_short", "exit", "stop"}}};
  static const std::vector<Field> kOrder = {{"client_order_id", Kind::kU64},
                                            {"ts", Kind::kI64},
                                            {"symbol", Kind::kStr},
                                            {"side", Kind::kEnum, {"buy", "sell"}},
                                            {"qty", Kind::kF64},
                                            {"type", Kind::kEnum, {"market", "limit"}},
                                            {"limit", Kind::kF64},
                                            {"pair", Kind::kOptU32}};
  static const std::vector<Field> kExecution = {
      {"client_order_id", Kind::kU64},
      {"ts", Kind::kI64},
      {"symbol", Kind::kStr},
      {"side", Kind::kEnum, {"buy", "sell"}},
      {"qty", Kind::kF64},
      {"price", Kind::kF64},
      {"fee", Kind::kF64},
      {"status",
       Kind::kEnum,
       {"filled", "partially_filled", "rejected", "acknowledged", "cancelled", "expired"}},
      {"reason", Kind::kStr, {}, /*optional=*/true},
      {"pair", Kind::kOptU32}};
  static const std::vector<Field> kPnl = {{"ts", Kind::kI64},     {"cash", Kind::kF64},
                                          {"equity", Kind::kF64}, {"gross_pnl", Kind::kF64},
                                          {"fees", Kind::kF64},   {"net_pnl", Kind::kF64}};
  switch (schema) {
    case Schema::kTick:
      return kTick;
    case Schema::kBar:
      return kBar;
    case Schema::kSignal:
      return kSignal;
    case Schema::kOrder:
      return kOrder;
    case Schema::kExecution:
      return kExecution;
    case Schema::kPnl:
      return kPnl;
    case Schema::kRecord:
      break;
  }
  static const std::vector<Field> kNone;
  return kNone;
}

std::optional<Schema> schema_for_topic(std::string_view topic) {
  if (topic == topics::kTicks) return Schema::kTick;
  if (topic.starts_with("bars.")) return Schema::kBar;
  if (topic == topics::kSignals) return Schema::kSignal;
  if (topic == topics::kOrders) return Schema::kOrder;
  if (topic == topics::kExecutions) return Schema::kExecution;
  if (topic == topics::kPnl) return Schema::kPnl;
  return std::nullopt;
}

bool is_binary_message(std::string_view bytes) {
  return bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'F';
}

Result<Schema> binary_schema(std::string_view bytes) {
  if (!is_binary_message(bytes))
    return Status(StatusCode::kParseError, "not a pairflow binary message");
  if (static_cast<std::uint8_t>(bytes[2]) != kBinaryVersion) {
    return Status(StatusCode::kParseError,
                  fmt::format("unsupported binary version {}", static_cast<int>(bytes[2])));
  }
  const auto tag = static_cast<std::uint8_t>(bytes[3]);
  if (tag < static_cast<std::uint8_t>(Schema::kTick) ||
      tag > static_cast<std::uint8_t>(Schema::kRecord)) {
    return Status(StatusCode::kParseError, fmt::format("unknown schema {}", tag));
  }
  return static_cast<Schema>(tag);
}

namespace {

Result<std::string> record_from_json(simdjson::dom::object obj) {
  std::string shape, values;
  std::size_t count = 0;
  for (simdjson::dom::key_value_pair field : obj) {
    if (field.key.size() > kMaxName) {
      return Status(
          StatusCode::kParseError,
          fmt::format("field name '{}...' is longer than 255 bytes", field.key.substr(0, 20)));
    }
    shape.push_back(static_cast<char>(field.key.size()));
    shape.append(field.key);
    simdjson::dom::element v = field.value;
    RecordType type = RecordType::kNull;
    switch (v.type()) {
      case simdjson::dom::element_type::INT64:
        type = RecordType::kI64;
        binary_put(values, v.get_int64().value_unsafe());
        break;
      case simdjson::dom::element_type::UINT64:  // beyond int64: kept as a double, as JSON readers
                                                 // do
      case simdjson::dom::element_type::DOUBLE:
        type = RecordType::kF64;
        binary_put(values, v.get_double().value_unsafe());
        break;
      case simdjson::dom::element_type::BOOL:
        type = RecordType::kBool;
        values.push_back(v.get_bool().value_unsafe() ? 1 : 0);
        break;
      case simdjson::dom::element_type::STRING: {
        std::string_view text = v.get_string().value_unsafe();
        if (text.size() > kMaxString) {
          return Status(StatusCode::kParseError,
                        fmt::format("field '{}' is longer than 65535 bytes", field.key));
        }
        type = RecordType::kStr;
        binary_put(values, static_cast<std::uint16_t>(text.size()));
        values.append(text);
        break;
      }
      case simdjson::dom::element_type::NULL_VALUE:
        break;
      default:
        return Status(StatusCode::kParseError,
                      fmt::format("field '{}' is not a scalar (records are flat)", field.key));
    }
    shape.push_back(static_cast<char>(type));
    ++count;
  }
  if (count > 0xffff || shape.size() > 0xffff) {
    return Status(StatusCode::kParseError, "object has too many fields for a record");
  }
  std::string out = {'P', 'F', static_cast<char>(kBinaryVersion),
                     static_cast<char>(Schema::kRecord)};
  binary_put(out, static_cast<std::uint16_t>(count));
  binary_put(out, static_cast<std::uint16_t>(shape.size()));
  out += shape;
  out += values;
  return out;
}

Result<std::string> record_to_json(std::string_view in) {
  const Status truncated(StatusCode::kParseError, "binary message is truncated");
  std::uint16_t count, shape_size;
  if (!binary_get(in, count) || !binary_get(in, shape_size) || in.size() < shape_size) {
    return truncated;
  }
  std::string_view shape = in.substr(0, shape_size);
  in.remove_prefix(shape_size);
  std::string out = "{";
  for (std::size_t i = 0; i < count; ++i) {
    std::uint8_t name_size = 0, type = 0;
    if (!binary_get(shape, name_size) || shape.size() < name_size + 1u) return truncated;
    std::string_view name = shape.substr(0, name_size);
    shape.remove_prefix(name_size);
    binary_get(shape, type);
    if (i) out.push_back(',');
    append_json_string(out, name);
    out.push_back(':');
    switch (static_cast<RecordType>(type)) {
      case RecordType::kNull:
        out += "null";
        break;
      case RecordType::kBool: {
        std::uint8_t b;
        if (!binary_get(in, b)) return truncated;
        out += b ? "true" : "false";
        break;
      }
      case RecordType::kI64: {
        std::int64_t v;
        if (!binary_get(in, v)) return truncated;
        out += std::to_string(v);
        break;
      }
      case RecordType::kF64: {
        double v;
        if (!binary_get(in, v)) return truncated;
        out += json_number(v);
        break;
      }
      case RecordType::kStr: {
        std::uint16_t n;
        if (!binary_get(in, n) || in.size() < n) return truncated;
        append_json_string(out, in.substr(0, n));
        in.remove_prefix(n);
        break;
      }
      default:
        return Status(StatusCode::kParseError,
                      fmt::format("field '{}' has an unknown type {}", name, type));
    }
  }
  if (!shape.empty())
    return Status(StatusCode::kParseError, "binary record shape has trailing bytes");
  if (!in.empty()) return Status(StatusCode::kParseError, "binary message has trailing bytes");
  return out + "}";
}

}  // namespace

Result<std::string> json_to_binary(Schema schema, std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(json.data(), json.size()).get_object().get(obj)) {
    return Status(StatusCode::kParseError, "not a JSON object");
  }
  if (schema == Schema::kRecord) return record_from_json(obj);
  std::string out = {'P', 'F', static_cast<char>(kBinaryVersion), static_cast<char>(schema)};
  for (const Field& f : schema_fields(schema)) {
    simdjson::dom::element e;
    const bool present = !obj[f.name].get(e) && !e.is_null();
    switch (f.kind) {
      case Kind::kI64: {
        std::int64_t v;
        if (!present || e.get_int64().get(v)) return bad_field(f, "must be an integer");
        binary_put(out, v);
        break;
      }
      case Kind::kU64: {
        std::uint64_t v;
        if (!present || e.get_uint64().get(v))
          return bad_field(f, "must be a non-negative integer");
        binary_put(out, v);
        break;
      }
      case Kind::kU32:
      case Kind::kOptU32: {
        std::uint64_t v = kBinaryNoPairId;
        if (present && (e.get_uint64().get(v) || v >= kBinaryNoPairId))
          return bad_field(f, "must be a 32-bit count");
        if (!present && f.kind == Kind::kU32) return bad_field(f, "is missing");
        binary_put(out, static_cast<std::uint32_t>(v));
        break;
      }
      case Kind::kF64: {
        double v = std::numeric_limits<double>::quiet_NaN();
        if (present && e.get_double().get(v)) return bad_field(f, "must be a number");
        binary_put(out, v);
        break;
      }
      case Kind::kStr: {
        std::string_view v;
        if (!present && f.optional) {
          binary_put(out, std::uint16_t{0});
          break;
        }
        if (!present || e.get_string().get(v)) return bad_field(f, "must be a string");
        if (v.size() > kMaxString) return bad_field(f, "is longer than 65535 bytes");
        binary_put(out, static_cast<std::uint16_t>(v.size()));
        out.append(v);
        break;
      }
      case Kind::kEnum: {
        std::string_view v;
        if (!present || e.get_string().get(v)) return bad_field(f, "must be a string");
        std::size_t i = 0;
        while (i < f.values.size() && v != f.values[i]) ++i;
        if (i == f.values.size()) return bad_field(f, "has an unknown value");
        out.push_back(static_cast<char>(i));
        break;
      }
    }
  }
  return out;
}

Result<std::string> binary_to_json(std::string_view in) {
  auto schema = binary_schema(in);
  if (!schema) return schema.status();
  in.remove_prefix(kBinaryHeaderSize);
  if (*schema == Schema::kRecord) return record_to_json(in);
  std::string out = "{";
  const Status truncated(StatusCode::kParseError, "binary message is truncated");
  bool first = true;
  for (const Field& f : schema_fields(*schema)) {
    std::string value;
    switch (f.kind) {
      case Kind::kI64: {
        std::int64_t v;
        if (!binary_get(in, v)) return truncated;
        value = std::to_string(v);
        break;
      }
      case Kind::kU64: {
        std::uint64_t v;
        if (!binary_get(in, v)) return truncated;
        value = std::to_string(v);
        break;
      }
      case Kind::kU32:
      case Kind::kOptU32: {
        std::uint32_t v;
        if (!binary_get(in, v)) return truncated;
        if (f.kind == Kind::kOptU32 && v == kBinaryNoPairId) continue;  // absent
        value = std::to_string(v);
        break;
      }
      case Kind::kF64: {
        double v;
        if (!binary_get(in, v)) return truncated;
        value = json_number(v);
        break;
      }
      case Kind::kStr: {
        std::uint16_t n;
        if (!binary_get(in, n) || in.size() < n) return truncated;
        if (n == 0 && f.optional) continue;  // absent
        value = json_string(in.substr(0, n));
        in.remove_prefix(n);
        break;
      }
      case Kind::kEnum: {
        std::uint8_t v;
        if (!binary_get(in, v)) return truncated;
        if (v >= f.values.size()) return bad_field(f, "has an unknown value");
        value = fmt::format("\"{}\"", f.values[v]);
        break;
      }
    }
    out += fmt::format("{}\"{}\":{}", first ? "" : ",", f.name, value);
    first = false;
  }
  if (!in.empty()) return Status(StatusCode::kParseError, "binary message has trailing bytes");
  return out + "}";
}

}  // namespace pairflow
