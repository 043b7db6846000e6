// The dashboard options of `pairflow demo` (and `backtest --ui`): --no-ui, --port, --bind,
// --read-only, --ui-info, --exit-at-end; and DashboardRun, which starts the server and the feed
// for one run, prints the URL with a token, and keeps serving after the run until Ctrl-C.
// Main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "base/metrics.h"
#include "engine/config.h"
#include "ui/feed.h"
#include "ui/hub.h"
#include "ui/server.h"

namespace pairflow::cli {

struct DashboardOptions {
  bool no_ui = false;
  bool ui = false;  // backtest: --ui starts it
  int port = -1;    // -1 = ui.port
  std::string bind;
  bool read_only = false;
  std::string ui_info;  // JSON file with the URL and tokens, written once listening
  bool exit_at_end = false;
  int wait_clients = 0;  // hold the run until this many WebSocket clients are connected
};

// `default_on`: demo serves by default (--no-ui turns it off); backtest only with --ui.
void add_dashboard(CLI::App* cmd, DashboardOptions& o, bool default_on);
bool dashboard_enabled(const DashboardOptions& o, bool default_on);

class DashboardRun {
 public:
  // Starts the server (throws UserError when it cannot listen) and prints its URL.
  DashboardRun(const DashboardOptions& o, const engine::EngineConfig& config,
               const SymbolTable& symbols, const std::string& run_name, const std::string& log_dir,
               engine::EngineObserver* next);
  ~DashboardRun();
  engine::EngineObserver* observer() { return feed_.get(); }
  // Just before the run: waits for --wait-clients, then starts the run's clock.
  void begin();
  // Just after the run: prints the pipeline's wall time and throughput with the dashboard on.
  void end(std::uint64_t ticks);
  // After the run: keeps serving until SIGINT / SIGTERM unless --exit-at-end.
  void linger();

 private:
  DashboardOptions options_;
  std::unique_ptr<ui::Hub> hub_;
  MetricsRegistry metrics_;
  std::unique_ptr<ui::DashboardServer> server_;
  std::unique_ptr<ui::DashboardFeed> feed_;
  std::chrono::steady_clock::time_point began_;
  int peak_clients_ = 0;
};

// SIGINT / SIGTERM end the input early (the run finishes and reports); a second one exits.
void install_stop_signals();

}  // namespace pairflow::cli
