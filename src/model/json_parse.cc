#include "model/json_parse.h"

#include <fmt/format.h>
#include <simdjson.h>

namespace pairflow {

struct TickParser::Impl {
  simdjson::dom::parser parser;
};

TickParser::TickParser() : impl_(std::make_unique<Impl>()) {}
TickParser::~TickParser() = default;

namespace {

Status field_error(const char* name, const char* problem) {
  return Status(StatusCode::kParseError, fmt::format("field '{}' {}", name, problem));
}

// A number field; absent or null gives NaN when optional.
Status number(simdjson::dom::object& obj, const char* name, bool optional, double& out) {
  simdjson::dom::element e;
  if (obj[name].get(e)) {
    if (optional) {
      out = kNaN;
      return Status::success();
    }
    return field_error(name, "is missing");
  }
  if (e.is_null() && optional) {
    out = kNaN;
    return Status::success();
  }
  if (e.get_double().get(out)) return field_error(name, "is not a number");
  return Status::success();
}

}  // namespace

Result<Tick> TickParser::parse(std::string_view json, SymbolTable& symbols) {
  simdjson::dom::element root;
  if (auto error = impl_->parser.parse(json.data(), json.size()).get(root)) {
    return Status(StatusCode::kParseError,
                  fmt::format("not JSON: {}", simdjson::error_message(error)));
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return Status(StatusCode::kParseError, "not a JSON object");
  Tick tick;
  simdjson::dom::element ts;
  if (obj["ts"].get(ts)) return field_error("ts", "is missing");
  if (ts.is_int64()) {
    tick.ts = ts.get_int64().value();
  } else if (ts.is_string()) {
    auto parsed = parse_timestamp(ts.get_string().value());
    if (!parsed) return parsed.status();
    tick.ts = *parsed;
  } else if (ts.is_double()) {
    auto parsed = parse_timestamp(fmt::format("{}", ts.get_double().value()));
    if (!parsed) return parsed.status();
    tick.ts = *parsed;
  } else {
    return field_error("ts", "is not a time");
  }
  std::string_view symbol;
  if (obj["symbol"].get_string().get(symbol))
    return field_error("symbol", "is missing or not a string");
  if (symbol.empty()) return field_error("symbol", "is empty");
  for (auto [name, optional, target] :
       {std::tuple{"price", false, &tick.price}, std::tuple{"size", false, &tick.size},
        std::tuple{"bid", true, &tick.bid}, std::tuple{"ask", true, &tick.ask},
        std::tuple{"bid_size", true, &tick.bid_size},
        std::tuple{"ask_size", true, &tick.ask_size}}) {
    Status s = number(obj, name, optional, *target);
    if (!s) return s;
  }
  tick.symbol = symbols.intern(symbol);
  return tick;
}

}  // namespace pairflow
