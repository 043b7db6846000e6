// Parsing the JSON form of messages (model/json.h writes it) back into structs, for jobs that read
// topics carrying JSON (Kafka, the in-process bus between user and built-in jobs).
//
// Tick: {"ts": ns-int | "ISO-8601" | epoch number, "symbol": str, "price": num, "size": num,
// "bid"?: num|null, "ask"?: num|null}. Unknown fields are ignored; a missing or mistyped required
// field is a kParseError naming it. A TickParser owns a reusable simdjson parser: one per thread.
#pragma once

#include <memory>
#include <string_view>

#include "base/status.h"
#include "base/symbols.h"
#include "model/messages.h"

namespace pairflow {

class TickParser {
 public:
  TickParser();
  ~TickParser();
  // Interns the symbol in `symbols`.
  Result<Tick> parse(std::string_view json, SymbolTable& symbols);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pairflow
