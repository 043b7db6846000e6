// JSON text of each message (one object, no newline), the form of logs and of Kafka payloads.
//
// Doubles print in their shortest round-trip form, so equal values give byte-identical text: the
// determinism tests compare these lines. Pure functions, any thread.
#pragma once

#include <string>

#include "base/symbols.h"
#include "model/messages.h"

namespace pairflow {

std::string to_json(const Tick& m, const SymbolTable& symbols);
std::string to_json(const Bar& m, const SymbolTable& symbols);
std::string to_json(const Signal& m);
std::string to_json(const Order& m, const SymbolTable& symbols);
std::string to_json(const Execution& m, const SymbolTable& symbols);
std::string to_json(const Position& m, const SymbolTable& symbols);
std::string to_json(const PnL& m);

// A JSON number, or null for NaN/inf (JSON has no NaN).
std::string json_number(double value);
// A JSON string literal with escaping.
std::string json_string(std::string_view text);
// The same, appended to `out` (for writers that build one buffer).
void append_json_string(std::string& out, std::string_view text);

}  // namespace pairflow
