#include "model/binary_codec.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "model/json.h"

namespace pairflow {
namespace {

enum class Kind : std::uint8_t { kI64, kU64, kU32, kOptU32, kF64, kStr, kEnum };

struct Field {
  const char* name;
  Kind kind;
  std::vector<const char*> values = {};  // kEnum
};

const std::vector<Field>& fields(Schema schema) {
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
      {"status", Kind::kEnum, {"filled", "partially_filled", "rejected"}}};
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
  }
  return kTick;
}

constexpr std::uint8_t kVersion = 1;
constexpr std::uint32_t kNoPairId = std::numeric_limits<std::uint32_t>::max();

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // the machines we target are little-endian
  out.append(bytes, sizeof(T));
}

template <typename T>
bool get(std::string_view& in, T& value) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(&value, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

Status bad_field(const Field& f, const char* problem) {
  return Status(StatusCode::kParseError, fmt::format("field '{}' {}", f.name, problem));
}

}  // namespace

std::optional<Schema> schema_for_topic(std::string_view topic) {
  if (topic == "ticks") return Schema::kTick;
  if (topic.starts_with("bars.")) return Schema::kBar;
  if (topic == "pairs.signals") return Schema::kSignal;
  if (topic == "orders") return Schema::kOrder;
  if (topic == "executions") return Schema::kExecution;
  if (topic == "pnl") return Schema::kPnl;
  return std::nullopt;
}

bool is_binary_message(std::string_view bytes) {
  return bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'F';
}

Result<std::string> json_to_binary(Schema schema, std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(json.data(), json.size()).get_object().get(obj)) {
    return Status(StatusCode::kParseError, "not a JSON object");
  }
  std::string out = {'P', 'F', static_cast<char>(kVersion), static_cast<char>(schema)};
  for (const Field& f : fields(schema)) {
    simdjson::dom::element e;
    const bool present = !obj[f.name].get(e) && !e.is_null();
    switch (f.kind) {
      case Kind::kI64: {
        std::int64_t v;
        if (!present || e.get_int64().get(v)) return bad_field(f, "must be an integer");
        put(out, v);
        break;
      }
      case Kind::kU64: {
        std::uint64_t v;
        if (!present || e.get_uint64().get(v))
          return bad_field(f, "must be a non-negative integer");
        put(out, v);
        break;
      }
      case Kind::kU32:
      case Kind::kOptU32: {
        std::uint64_t v = kNoPairId;
        if (present && (e.get_uint64().get(v) || v >= kNoPairId))
          return bad_field(f, "must be a 32-bit count");
        if (!present && f.kind == Kind::kU32) return bad_field(f, "is missing");
        put(out, static_cast<std::uint32_t>(v));
        break;
      }
      case Kind::kF64: {
        double v = std::numeric_limits<double>::quiet_NaN();
        if (present && e.get_double().get(v)) return bad_field(f, "must be a number");
        put(out, v);
        break;
      }
      case Kind::kStr: {
        std::string_view v;
        if (!present || e.get_string().get(v)) return bad_field(f, "must be a string");
        if (v.size() > 0xffff) return bad_field(f, "is longer than 65535 bytes");
        put(out, static_cast<std::uint16_t>(v.size()));
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
  if (!is_binary_message(in))
    return Status(StatusCode::kParseError, "not a pairflow binary message");
  if (static_cast<std::uint8_t>(in[2]) != kVersion) {
    return Status(StatusCode::kParseError,
                  fmt::format("unsupported binary version {}", static_cast<int>(in[2])));
  }
  const auto tag = static_cast<std::uint8_t>(in[3]);
  if (tag < 1 || tag > 6)
    return Status(StatusCode::kParseError, fmt::format("unknown schema {}", tag));
  in.remove_prefix(4);
  std::string out = "{";
  const Status truncated(StatusCode::kParseError, "binary message is truncated");
  bool first = true;
  for (const Field& f : fields(static_cast<Schema>(tag))) {
    std::string value;
    switch (f.kind) {
      case Kind::kI64: {
        std::int64_t v;
        if (!get(in, v)) return truncated;
        value = std::to_string(v);
        break;
      }
      case Kind::kU64: {
        std::uint64_t v;
        if (!get(in, v)) return truncated;
        value = std::to_string(v);
        break;
      }
      case Kind::kU32:
      case Kind::kOptU32: {
        std::uint32_t v;
        if (!get(in, v)) return truncated;
        if (f.kind == Kind::kOptU32 && v == kNoPairId) continue;  // absent
        value = std::to_string(v);
        break;
      }
      case Kind::kF64: {
        double v;
        if (!get(in, v)) return truncated;
        value = json_number(v);
        break;
      }
      case Kind::kStr: {
        std::uint16_t n;
        if (!get(in, n) || in.size() < n) return truncated;
        value = json_string(in.substr(0, n));
        in.remove_prefix(n);
        break;
      }
      case Kind::kEnum: {
        std::uint8_t v;
        if (!get(in, v)) return truncated;
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
