// JsonWriter: the one way pairflow writes JSON text that is not a message (summaries, reports,
// checkpoints, dead-letter envelopes, metrics): objects and arrays with commas placed for you,
// strings escaped, doubles in their shortest round-trip form (NaN and infinities as null, since
// JSON has none), so equal values always give byte-identical text.
//
//   std::string out;
//   JsonWriter w(out);
//   w.begin_object().field("job", name).field("offset", 7).key("tags").begin_array();
//   w.value("a").value("b").end_array().end_object();   // {"job":"x","offset":7,"tags":["a","b"]}
//
// Appends to the string it was given; nesting is checked in debug builds only. Single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pairflow {

// A JSON number, or null for NaN/inf (JSON has no NaN); doubles in their shortest round-trip form.
std::string json_number(double value);
// A JSON string literal with escaping.
std::string json_string(std::string_view text);
// The same, appended to `out` (for writers that build one buffer).
void append_json_string(std::string& out, std::string_view text);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  // The key of the next value in an object.
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(bool flag);
  JsonWriter& value(double number);
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) JsonWriter& value(T number) {
    separate();
    if constexpr (std::is_signed_v<T>) {
      append_int(static_cast<std::int64_t>(number));
    } else {
      append_uint(static_cast<std::uint64_t>(number));
    }
    return *this;
  }
  JsonWriter& null();
  // Text that is already JSON (a nested document), written as it is.
  JsonWriter& raw(std::string_view json);

  template <typename T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }
  JsonWriter& raw_field(std::string_view name, std::string_view json) {
    key(name);
    return raw(json);
  }

 private:
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  void separate();
  void append_int(std::int64_t v);
  void append_uint(std::uint64_t v);

  std::string& out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace pairflow
