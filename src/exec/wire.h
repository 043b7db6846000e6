// The JSON of the execution service's topics: spread intents and slice marks on `orders`, kill
// switch commands on `control`. Used by the trader (which writes intents), the execution job
// (which reads them) and `pairflow ctl`.
//
// orders:
//   {"type":"intent","ts":NS,"pair":N,"kind":"entry"|"exit","y":"SYM","y_qty":Q,"x":"SYM",
//    "x_qty":Q,"hedge_ratio":H,"id":ID}   the pair's target position after the intent (exit: 0, 0);
//                                         id optional (default intent_id(pair, ts, kind))
//   {"type":"slice","ts":NS,"trading":B} the trader decided everything up to ts: ticks before it
//                                         can go to the broker, positions are marked and P&L is
//                                         published; trading (optional, default true) is false
//                                         during discovery's warm-up, whose flat equity does not
//                                         count in the run's Sharpe ratio
// control:
//   {"command":"kill","mode":"pause"|"flatten"|"halt","by":"...","reason":"..."}
//   {"command":"pause"|"flatten"|"halt"|"resume"|"rearm"|"acknowledge"|"status","by":"...",
//    "reason":"..."}
// Parsing never throws: a malformed message is an error naming the field. Any thread (a parser
// per thread).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/symbols.h"
#include "exec/kill_switch.h"
#include "exec/order.h"

namespace pairflow::exec {

struct OrdersMessage {
  enum class Type : std::uint8_t { kIntent, kSlice } type = Type::kSlice;
  SpreadIntent intent;  // kIntent: legs are the pair's target shares
  Timestamp ts = 0;
  bool trading = true;  // kSlice
};

enum class CommandKind : std::uint8_t { kKill, kResume, kRearm, kAcknowledge, kStatus };
const char* to_string(CommandKind kind);

struct ControlCommand {
  CommandKind kind = CommandKind::kStatus;
  KillMode mode = KillMode::kNone;  // kKill
  std::string by = "control";
  std::string reason;
};

std::string intent_to_json(const SpreadIntent& intent, const SymbolTable& symbols);
std::string slice_to_json(Timestamp ts, bool trading);
std::string to_json(const ControlCommand& command);

class WireParser {
 public:
  WireParser();
  ~WireParser();
  // Interns the legs' symbols.
  Result<OrdersMessage> parse_orders(std::string_view json, SymbolTable& symbols);
  Result<ControlCommand> parse_control(std::string_view json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pairflow::exec
