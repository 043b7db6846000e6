#include "exec/wire.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>

#include "base/json_writer.h"

namespace pairflow::exec {

const char* to_string(CommandKind kind) {
  switch (kind) {
    case CommandKind::kKill:
      return "kill";
    case CommandKind::kResume:
      return "resume";
    case CommandKind::kRearm:
      return "rearm";
    case CommandKind::kAcknowledge:
      return "acknowledge";
    case CommandKind::kStatus:
      return "status";
  }
  return "?";
}

std::string intent_to_json(const SpreadIntent& i, const SymbolTable& symbols) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("type", "intent").field("ts", i.ts).field("pair", i.pair);
  w.field("kind", to_string(i.kind)).field("y", symbols.name(i.y.symbol)).field("y_qty", i.y.qty);
  w.field("x", symbols.name(i.x.symbol)).field("x_qty", i.x.qty);
  if (std::isfinite(i.hedge_ratio)) w.field("hedge_ratio", i.hedge_ratio);
  w.field("id", i.id).end_object();
  return out;
}

std::string slice_to_json(Timestamp ts, bool trading) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("type", "slice").field("ts", ts).field("trading", trading).end_object();
  return out;
}

std::string to_json(const ControlCommand& c) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("command", to_string(c.kind));
  if (c.kind == CommandKind::kKill) w.field("mode", to_string(c.mode));
  w.field("by", c.by).field("reason", c.reason).end_object();
  return out;
}

struct WireParser::Impl {
  simdjson::dom::parser parser;
};

WireParser::WireParser() : impl_(std::make_unique<Impl>()) {}
WireParser::~WireParser() = default;

namespace {

Status bad(const char* field, const char* problem) {
  return Status(StatusCode::kParseError, fmt::format("field '{}' {}", field, problem));
}

Result<simdjson::dom::object> object_of(simdjson::dom::parser& parser, std::string_view json) {
  simdjson::dom::element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root))
    return Status(StatusCode::kParseError,
                  fmt::format("not JSON: {}", simdjson::error_message(error)));
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return Status(StatusCode::kParseError, "not a JSON object");
  return obj;
}

Status string_field(simdjson::dom::object& obj, const char* name, std::string_view& out,
                    bool optional = false) {
  simdjson::dom::element e;
  if (obj[name].get(e)) return optional ? Status::success() : bad(name, "is missing");
  if (e.get_string().get(out)) return bad(name, "is not a string");
  return Status::success();
}

Status number_field(simdjson::dom::object& obj, const char* name, double& out) {
  simdjson::dom::element e;
  if (obj[name].get(e)) return bad(name, "is missing");
  if (e.get_double().get(out)) return bad(name, "is not a number");
  if (!std::isfinite(out)) return bad(name, "is not finite");
  return Status::success();
}

Status time_field(simdjson::dom::object& obj, Timestamp& out) {
  simdjson::dom::element e;
  if (obj["ts"].get(e)) return bad("ts", "is missing");
  if (std::int64_t ns; !e.get_int64().get(ns)) {
    out = ns;
    return Status::success();
  }
  if (std::string_view text; !e.get_string().get(text)) {
    auto parsed = parse_timestamp(text);
    if (!parsed) return parsed.status();
    out = *parsed;
    return Status::success();
  }
  return bad("ts", "is not a time (integer ns or ISO-8601)");
}

}  // namespace

Result<OrdersMessage> WireParser::parse_orders(std::string_view json, SymbolTable& symbols) {
  auto obj = object_of(impl_->parser, json);
  if (!obj) return obj.status();
  OrdersMessage m;
  std::string_view type;
  if (Status s = string_field(*obj, "type", type); !s) return s;
  if (Status s = time_field(*obj, m.ts); !s) return s;
  if (type == "slice") {
    m.type = OrdersMessage::Type::kSlice;
    simdjson::dom::element e;
    if (!(*obj)["trading"].get(e) && e.get_bool().get(m.trading))
      return bad("trading", "is not true or false");
    return m;
  }
  if (type != "intent") return bad("type", "must be \"intent\" or \"slice\"");
  m.type = OrdersMessage::Type::kIntent;
  SpreadIntent& i = m.intent;
  i.ts = m.ts;
  std::int64_t pair;
  if (simdjson::dom::element e; (*obj)["pair"].get(e)) {
    return bad("pair", "is missing");
  } else if (e.get_int64().get(pair) || pair < 0 || pair >= static_cast<std::int64_t>(kNoPair)) {
    return bad("pair", "is not a pair number (an integer >= 0)");
  }
  i.pair = static_cast<PairId>(pair);
  std::string_view kind;
  if (Status s = string_field(*obj, "kind", kind); !s) return s;
  if (kind == "entry") {
    i.kind = IntentKind::kEntry;
  } else if (kind == "exit") {
    i.kind = IntentKind::kExit;
  } else {
    return bad("kind", "must be \"entry\" or \"exit\"");
  }
  std::string_view y, x;
  if (Status s = string_field(*obj, "y", y); !s) return s;
  if (Status s = string_field(*obj, "x", x); !s) return s;
  if (y.empty() || x.empty()) return bad(y.empty() ? "y" : "x", "is empty");
  if (y == x) return bad("x", "is the same symbol as y");
  if (Status s = number_field(*obj, "y_qty", i.y.qty); !s) return s;
  if (Status s = number_field(*obj, "x_qty", i.x.qty); !s) return s;
  if (i.y.qty != std::round(i.y.qty) || i.x.qty != std::round(i.x.qty) ||
      std::fabs(i.y.qty) > 1e12 || std::fabs(i.x.qty) > 1e12)
    return bad(i.y.qty != std::round(i.y.qty) ? "y_qty" : "x_qty",
               "is not a whole number of shares (at most 1e12)");
  if (i.kind == IntentKind::kExit && (i.y.qty != 0 || i.x.qty != 0))
    return bad("y_qty", "of an exit must be 0 (the target position is flat)");
  if (simdjson::dom::element e; !(*obj)["hedge_ratio"].get(e)) {
    if (e.get_double().get(i.hedge_ratio)) return bad("hedge_ratio", "is not a number");
  }
  i.id = intent_id(i.pair, i.ts, i.kind);
  if (simdjson::dom::element e; !(*obj)["id"].get(e)) {
    if (e.get_uint64().get(i.id) || i.id == 0) return bad("id", "is not a positive integer");
  }
  i.y.symbol = symbols.intern(y);
  i.x.symbol = symbols.intern(x);
  return m;
}

Result<ControlCommand> WireParser::parse_control(std::string_view json) {
  auto obj = object_of(impl_->parser, json);
  if (!obj) return obj.status();
  ControlCommand c;
  std::string_view command, text;
  if (Status s = string_field(*obj, "command", command); !s) return s;
  if (command == "kill") {
    c.kind = CommandKind::kKill;
    if (Status s = string_field(*obj, "mode", text); !s) return s;
    if (!parse_kill_mode(text, c.mode) || c.mode == KillMode::kNone)
      return bad("mode", "must be \"pause\", \"flatten\" or \"halt\"");
  } else if (command == "pause" || command == "flatten" || command == "halt") {
    c.kind = CommandKind::kKill;
    parse_kill_mode(command, c.mode);
  } else if (command == "resume") {
    c.kind = CommandKind::kResume;
  } else if (command == "rearm") {
    c.kind = CommandKind::kRearm;
  } else if (command == "acknowledge") {
    c.kind = CommandKind::kAcknowledge;
  } else if (command == "status") {
    c.kind = CommandKind::kStatus;
  } else {
    return bad("command",
               "must be one of kill, pause, flatten, halt, resume, rearm, acknowledge, status");
  }
  text = {};
  if (Status s = string_field(*obj, "by", text, true); !s) return s;
  if (!text.empty()) c.by = std::string(text.substr(0, 200));
  text = {};
  if (Status s = string_field(*obj, "reason", text, true); !s) return s;
  c.reason = std::string(text.substr(0, 1000));
  return c;
}

}  // namespace pairflow::exec
