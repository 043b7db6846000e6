// JSON text of each message (one object, no newline), the form of logs and of Kafka payloads.
//
// Doubles print in their shortest round-trip form, so equal values give byte-identical text: the
// determinism tests compare these lines. Pure functions, any thread.
#pragma once

#include <string>

#include "base/json_writer.h"  // json_number, json_string, JsonWriter
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

}  // namespace pairflow
