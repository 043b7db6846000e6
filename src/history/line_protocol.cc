#include "history/line_protocol.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>

#include "history/store.h"

namespace pairflow::history {
namespace {

void append_number(std::string& out, double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  out.append(buf, r.ptr);
}

template <typename T>
void append_integer(std::string& out, T v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

constexpr std::int64_t kExactInFloat = std::int64_t{1} << 53;

bool has_newline(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

void append_escaped_measurement(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\\') out += '\\';
    out += c;
  }
}

void append_escaped_tag(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == ',' || c == '=' || c == ' ' || c == '\\') out += '\\';
    out += c;
  }
}

void append_escaped_string_field(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

Status append_line(std::string& out, std::string_view topic, std::string_view key,
                   std::string_view json, Timestamp message_ts, std::size_t max_string) {
  auto bad = [&](RejectKind kind, std::string detail) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("{}: {}: {}", reject_kind_name(kind), topic, std::move(detail)));
  };
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(json.data(), json.size()).get_object().get(object))
    return bad(RejectKind::kMalformed, "not a JSON object");
  const std::size_t start = out.size();
  Timestamp ts = message_ts;
  simdjson::dom::element e;
  if (!object["ts"].get(e)) {
    std::int64_t v;
    if (e.get_int64().get(v)) return bad(RejectKind::kNoEventTime, "'ts' is not an integer");
    ts = v;
  } else if (message_ts == 0) {
    return bad(RejectKind::kNoEventTime, "no 'ts' field");
  }
  append_escaped_measurement(out, table_for_topic(topic));
  out += ",topic=";
  append_escaped_tag(out, topic);
  std::string_view tag_name, tag_value;
  std::string pair_text;
  std::string_view symbol;
  if (!object["symbol"].get(e) && !e.get_string().get(symbol)) {
    tag_name = "symbol";
    tag_value = symbol;
  } else if (!object["pair"].get(e)) {
    std::int64_t pair;
    std::string_view text;
    if (!e.get_int64().get(pair)) {
      pair_text = std::to_string(pair);
      tag_name = "pair";
      tag_value = pair_text;
    } else if (!e.get_string().get(text)) {
      tag_name = "pair";
      tag_value = text;
    }
  } else if (!key.empty()) {
    tag_name = "key";
    tag_value = key;
  }
  if (!tag_value.empty()) {
    if (has_newline(tag_value)) {
      out.resize(start);
      return bad(RejectKind::kBadFieldName, fmt::format("a newline in the {} tag", tag_name));
    }
    out += ',';
    out += tag_name;
    out += '=';
    append_escaped_tag(out, tag_value);
  }
  char separator = ' ';
  std::size_t fields = 0;
  for (auto [name, value] : object) {
    if (name == "ts" || name == tag_name) continue;
    if (has_newline(name) || name.empty()) {
      out.resize(start);
      return bad(RejectKind::kBadFieldName, "an empty field name or a newline in one");
    }
    const std::size_t before = out.size();
    out += separator;
    append_escaped_tag(out, name);
    out += '=';
    switch (value.type()) {
      case simdjson::dom::element_type::INT64: {
        std::int64_t v = 0;
        if (value.get_int64().get(v)) {
        }
        if (v > kExactInFloat || v < -kExactInFloat) {
          out += '"';
          append_integer(out, v);
          out += '"';
        } else {
          append_integer(out, v);  // a float with no fraction: same type as 1.5
        }
        break;
      }
      case simdjson::dom::element_type::UINT64: {
        std::uint64_t v = 0;
        if (value.get_uint64().get(v)) {
        }
        out += '"';
        append_integer(out, v);
        out += '"';
        break;
      }
      case simdjson::dom::element_type::DOUBLE: {
        double v = 0;
        if (value.get_double().get(v)) {
        }
        append_number(out, v);
        break;
      }
      case simdjson::dom::element_type::BOOL: {
        bool v = false;
        if (value.get_bool().get(v)) {
        }
        out += v ? "true" : "false";
        break;
      }
      case simdjson::dom::element_type::STRING: {
        std::string_view v;
        if (value.get_string().get(v)) {
        }
        if (v.size() > max_string) {
          out.resize(start);
          return bad(RejectKind::kStringTooLong,
                     fmt::format("field '{}' is {} bytes (limit {})", name, v.size(), max_string));
        }
        if (has_newline(v)) {
          out.resize(start);
          return bad(RejectKind::kBadFieldName,
                     fmt::format("field '{}' holds a newline (not representable)", name));
        }
        append_escaped_string_field(out, v);
        break;
      }
      case simdjson::dom::element_type::NULL_VALUE:
        out.resize(before);
        continue;
      default:
        append_escaped_string_field(out, simdjson::minify(value));
        break;
    }
    separator = ',';
    ++fields;
  }
  if (fields == 0) {
    // A point needs a field: a message of only a key still records that it happened.
    out += " seen=1";
  }
  out += ' ';
  append_integer(out, ts);
  out += '\n';
  return Status::success();
}

}  // namespace pairflow::history
