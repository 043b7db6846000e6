#include "cli/dashboard_options.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "base/json_writer.h"
#include "engine/run_drivers.h"

namespace pairflow::cli {

namespace {

std::atomic<int> g_signals{0};

void on_stop_signal(int) {
  if (g_signals.fetch_add(1) > 0) _exit(130);  // a second Ctrl-C: now
  engine::request_stop();
}

}  // namespace

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void add_dashboard(CLI::App* cmd, DashboardOptions& o, bool default_on) {
  if (default_on) {
    cmd->add_flag("--no-ui", o.no_ui, "run without the dashboard, flat out (unless --speed)");
  } else {
    cmd->add_flag("--ui", o.ui, "serve the live dashboard while the backtest runs");
  }
  cmd->add_option("--port", o.port, "dashboard port (default ui.port = 8080; 0 = any free port)");
  cmd->add_option("--bind", o.bind, "dashboard address (default ui.bind = 127.0.0.1)");
  cmd->add_flag("--read-only", o.read_only, "serve the dashboard without controls");
  cmd->add_option("--ui-info", o.ui_info,
                  "write the dashboard's URL and tokens to this JSON file once it listens");
  cmd->add_option("--wait-clients", o.wait_clients,
                  "start the run once this many dashboard clients are connected (at most 60 s)")
      ->check(CLI::Range(0, 1000));
  cmd->add_flag("--exit-at-end", o.exit_at_end,
                "exit when the run ends instead of serving the dashboard until Ctrl-C");
}

bool dashboard_enabled(const DashboardOptions& o, bool default_on) {
  return default_on ? !o.no_ui : o.ui;
}

DashboardRun::DashboardRun(const DashboardOptions& o, const engine::EngineConfig& config,
                           const SymbolTable& symbols, const std::string& run_name,
                           const std::string& log_dir, engine::EngineObserver* next)
    : options_(o),
      hub_(std::make_unique<ui::Hub>(static_cast<std::size_t>(config.ui.stream_history))) {
  ui::ServerConfig sc;
  sc.bind = o.bind.empty() ? config.ui.bind : o.bind;
  sc.port = o.port >= 0 ? o.port : config.ui.port;
  sc.tokens = config.ui.tokens;
  sc.read_only = o.read_only || config.ui.read_only;
  sc.tls_cert = config.ui.tls_cert;
  sc.tls_key = config.ui.tls_key;
  sc.web_root = config.ui.web_root.empty() ? ui::default_web_root() : config.ui.web_root;
  std::string audit = config.ui.audit_log;
  if (audit.empty()) {
    const std::string dir = log_dir.empty() ? ".pairflow" : log_dir;
    std::filesystem::create_directories(dir);
    audit = dir + "/control_audit.jsonl";
  }
  feed_ =
      std::make_unique<ui::DashboardFeed>(*hub_, metrics_, config, symbols, run_name, audit, next);
  server_ = std::make_unique<ui::DashboardServer>(sc, *hub_, metrics_);
  const std::string op = server_->token_for("operator");
  const std::string viewer = server_->token_for("viewer");
  std::printf("dashboard: %s#token=%s\n", server_->url().c_str(),
              (op.empty() ? server_->tokens().front().token : op).c_str());
  if (config.ui.tokens.empty())
    std::printf(
        "  generated tokens: operator %s, viewer %s (configure [[ui.tokens]] to fix them)\n",
        op.c_str(), viewer.c_str());
  std::printf("  metrics: %smetrics; controls audited in %s%s\n", server_->url().c_str(),
              audit.c_str(), sc.read_only ? "; read-only" : "");
  std::fflush(stdout);
  if (!o.ui_info.empty()) {
    std::string info;
    JsonWriter w(info);
    w.begin_object().field("url", server_->url()).field("port", server_->port());
    w.field("operator_token", op).field("viewer_token", viewer).field("audit_log", audit);
    w.end_object();
    const std::string tmp = o.ui_info + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) throw UserError(fmt::format("{}: cannot write", o.ui_info));
    std::fputs(info.c_str(), f);
    std::fclose(f);
    std::filesystem::rename(tmp, o.ui_info);
  }
}

DashboardRun::~DashboardRun() = default;

void DashboardRun::begin() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (server_->clients() < options_.wait_clients &&
         std::chrono::steady_clock::now() < deadline && !engine::stop_requested())
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  peak_clients_ = server_->clients();
  began_ = std::chrono::steady_clock::now();
}

void DashboardRun::end(std::uint64_t ticks) {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
  std::printf(
      "dashboard: the pipeline ran %llu ticks in %.3f s (%.0f ticks/s) with %d client(s) "
      "connected at the start\n",
      static_cast<unsigned long long>(ticks), s, s > 0 ? static_cast<double>(ticks) / s : 0.0,
      peak_clients_);
  std::fflush(stdout);
}

void DashboardRun::linger() {
  if (options_.exit_at_end || engine::stop_requested()) return;
  std::printf("dashboard: the run is over; still serving %s until Ctrl-C\n",
              server_->url().c_str());
  std::fflush(stdout);
  while (!engine::stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace pairflow::cli
