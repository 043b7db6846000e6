// The OpenAPI 3 description of the dashboard's REST API, built from one table of endpoints.
#include "base/json_writer.h"
#include "ui/server.h"

namespace pairflow::ui {

namespace {

struct Endpoint {
  const char* path;
  const char* method;
  const char* role;  // "" = no token
  const char* summary;
};

constexpr Endpoint kEndpoints[] = {
    {"/api/health", "get", "", "Liveness and readiness: {ok, ready}"},
    {"/api/openapi.json", "get", "", "This description"},
    {"/api/status", "get", "viewer",
     "The run: state, event time, ticks, bars, speed, kill switch, trading state, equity, the "
     "caller's role"},
    {"/api/pairs", "get", "viewer",
     "Active pairs: z-score, hedge ratio, half-life, p-value, thresholds, position, P&L, trades"},
    {"/api/pairs/{id}", "get", "viewer",
     "One active pair with its last bars (z, both legs' prices) and its trades"},
    {"/api/screener", "get", "viewer", "The last screen: tests, passing candidates and statistics"},
    {"/api/positions", "get", "viewer", "Open positions per symbol: quantity, mark, value"},
    {"/api/orders", "get", "viewer", "Open orders and the recently finished ones"},
    {"/api/executions", "get", "viewer", "The execution blotter: the last 500 reports"},
    {"/api/pnl", "get", "viewer", "P&L, fees, drawdown and the equity curve"},
    {"/api/risk", "get", "viewer",
     "Kill switch, trading state, unhedged notional, denials by reason, limits, audit"},
    {"/api/jobs", "get", "viewer", "Job health: messages in and out, rate, lag, rejects, DLQ"},
    {"/api/config", "get", "viewer", "The run's effective settings"},
    {"/api/control", "post", "operator",
     "Kill switch: {command: pause|resume|flatten|halt|rearm|acknowledge (admin), reason}"},
    {"/api/pairs/{id}/control", "post", "operator",
     "One pair: {command: enable|disable|flatten} or {command: thresholds, entry_z, exit_z, "
     "stop_z}"},
    {"/api/stream", "get", "viewer",
     "WebSocket (token in ?token=): {op: subscribe, streams: [...], since: {stream: seq}}; "
     "snapshot then updates with per-stream seq"},
    {"/metrics", "get", "", "Prometheus metrics (text format 0.0.4)"},
};

std::string build() {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("openapi", "3.0.3");
  w.key("info").begin_object().field("title", "pairflow dashboard API").field("version", "1");
  w.end_object();
  w.key("components").begin_object().key("securitySchemes").begin_object();
  w.key("bearer").begin_object().field("type", "http").field("scheme", "bearer").end_object();
  w.end_object().end_object();
  w.key("paths").begin_object();
  for (std::size_t i = 0; i < std::size(kEndpoints);) {
    const char* path = kEndpoints[i].path;
    w.key(path).begin_object();
    for (; i < std::size(kEndpoints) && std::string_view(kEndpoints[i].path) == path; ++i) {
      const Endpoint& e = kEndpoints[i];
      w.key(e.method).begin_object().field("summary", e.summary);
      if (*e.role) {
        w.field("x-role", e.role);
        w.key("security").begin_array().begin_object().key("bearer").begin_array().end_array();
        w.end_object().end_array();
      } else {
        w.key("security").begin_array().end_array();
      }
      if (std::string_view(path).find("{id}") != std::string_view::npos) {
        w.key("parameters").begin_array().begin_object().field("name", "id").field("in", "path");
        w.field("required", true).key("schema").begin_object().field("type", "integer");
        w.end_object().end_object().end_array();
      }
      w.key("responses").begin_object();
      w.key("200").begin_object().field("description", "OK").end_object();
      if (*e.role) {
        w.key("401").begin_object().field("description", "no or unknown token").end_object();
        w.key("403").begin_object().field("description", "role too low, or read-only").end_object();
      }
      if (std::string_view(e.method) == "post") {
        w.key("400").begin_object().field("description", "malformed body or command").end_object();
        w.key("409").begin_object().field("description", "refused in this state").end_object();
        w.key("413").begin_object().field("description", "body over 64 KiB").end_object();
      }
      w.end_object().end_object();
    }
    w.end_object();
  }
  w.end_object().end_object();
  return out;
}

}  // namespace

const std::string& openapi_json() {
  static const std::string kText = build();
  return kText;
}

}  // namespace pairflow::ui
