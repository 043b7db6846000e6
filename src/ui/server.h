// DashboardServer: the dashboard's HTTP and WebSocket server (Boost.Beast), on its own thread.
//
//   GET  /                      the built dashboard (web/), static files
//   GET  /api/<name>            status, pairs, pairs/ID, screener, positions, orders, executions,
//                               pnl, risk, jobs, config (viewer); health, openapi.json (no token)
//   POST /api/control           kill switch: pause, resume, flatten, halt, rearm (operator),
//                               acknowledge (admin)
//   POST /api/pairs/ID/control  enable, disable, flatten, thresholds (operator)
//   GET  /api/stream            WebSocket: typed subscriptions with per-stream sequence numbers
//   GET  /metrics               Prometheus text format (no token)
//
// TLS: with a certificate and key, HTTPS and WSS only (Beast's ssl_stream over OpenSSL).
// Auth: `Authorization: Bearer TOKEN` (the WebSocket also takes `?token=`, since browsers cannot
// set headers on it); roles viewer < operator < admin; 401 without a known token, 403 when the
// role is too low or the server is read-only. The WebSocket refuses a browser `Origin` other than
// the server's own host. Bodies over 64 KiB get 413; malformed requests a 4xx with a reason.
//
// The server reads only the hub (ui/hub.h) and queues controls there; it never calls the engine,
// so a slow client or a flood of requests cannot slow the pipeline. Each WebSocket client has a
// bounded queue: on conflatable streams it receives the latest value per key when it falls
// behind; on the others, a client whose next update the hub's history no longer holds is
// disconnected (close code 1008, "too slow") and counted.
//
// Lifecycle: construct (binds and starts its thread; throws UserError naming the address), then
// destroy (stops the thread, closes every connection). Thread-safe accessors.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/metrics.h"
#include "engine/config.h"
#include "ui/hub.h"

namespace pairflow::ui {

struct ServerConfig {
  std::string bind = "127.0.0.1";
  int port = 8080;                      // 0 = any free port
  std::vector<engine::UiToken> tokens;  // empty: random viewer and operator tokens
  bool read_only = false;
  std::string web_root;           // the built dashboard ("" = none: / explains)
  std::string tls_cert, tls_key;  // PEM files: HTTPS and WSS only (both, or neither)
  std::size_t max_body = 64 * 1024;
  std::size_t max_queue = 256;                  // messages waiting per WebSocket client
  std::chrono::milliseconds pump_interval{20};  // clients take new updates at most this often
  int send_buffer = 64 * 1024;  // a WebSocket's kernel send buffer (bounds memory per
                                // client; a client that stops reading stalls early)
};

class DashboardServer {
 public:
  DashboardServer(ServerConfig config, Hub& hub, MetricsRegistry& metrics);
  ~DashboardServer();
  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  int port() const { return port_; }
  std::string url() const;  // http(s)://BIND:PORT/
  // The tokens in force (generated ones included), for printing at start-up.
  const std::vector<engine::UiToken>& tokens() const { return tokens_; }
  std::string token_for(const std::string& role) const;  // the first with that role, or ""
  int clients() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::vector<engine::UiToken> tokens_;
  int port_ = 0;
};

// web/ next to the running binary's bin/ (build/bin/pairflow -> build/web), or "".
std::string default_web_root();

// The OpenAPI 3 description of the REST API (GET /api/openapi.json).
const std::string& openapi_json();

}  // namespace pairflow::ui
