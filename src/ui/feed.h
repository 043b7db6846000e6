// DashboardFeed: the engine's side of the dashboard. An EngineObserver on the pipeline's thread
// that turns what the engine decides and does into the hub's streams and documents and into
// Prometheus metrics, and carries out the operators' commands the server queued in the hub.
//
//   engine events (signals, orders, executions, P&L)  -> streams at once (one commit per slice)
//   engine state (pairs, positions, screener, risk, jobs, status) -> every `publish_ms` of wall
//       clock: documents, and stream updates for what changed
//   hub controls -> Engine::command / Engine::pair_command -> answer + audit log line
//
// It never blocks on the server: a publish appends to the hub under its mutex and returns. Events
// are also forwarded to `next` (the run logs), so a run with the dashboard writes the same files
// as one without.
//
// Lifecycle: construct before the run; the driver calls the observer hooks; finish() once after
// Engine::finish() (a last publish; later controls are refused with "the run has finished").
// Single-threaded: the pipeline's thread.
#pragma once

#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/metrics.h"
#include "engine/engine.h"
#include "ui/hub.h"

namespace pairflow::ui {

class DashboardFeed : public engine::EngineObserver {
 public:
  // audit_path: the control audit log (JSON lines, appended); throws UserError when it cannot be
  // opened.
  DashboardFeed(Hub& hub, MetricsRegistry& metrics, const engine::EngineConfig& config,
                const SymbolTable& symbols, std::string run_name, std::string audit_path,
                engine::EngineObserver* next = nullptr);
  ~DashboardFeed() override;

  void on_signal(const Signal& signal) override;
  void on_order(const Order& order) override;
  void on_execution(const Execution& execution) override;
  void on_pnl(const PnL& pnl) override;
  void on_position(const Position& position) override;
  void on_pair_pnl(const exec::PairPnl& pair) override;
  void on_audit(const exec::AuditEntry& entry) override;
  void on_control(const screen::PairControl& control) override;
  bool wants_ticks() const override { return next_ && next_->wants_ticks(); }
  void on_tick(const Tick& tick) override { next_->on_tick(tick); }
  void on_bars(std::span<const Bar> bars) override {
    if (next_) next_->on_bars(bars);
  }
  void on_slice_end(engine::Engine& engine, Timestamp now) override;
  void on_wait(engine::Engine& engine) override;

  // After Engine::finish(): the final state, and controls closed from then on.
  void on_finish(engine::Engine& engine) override;
  const std::string& audit_path() const { return audit_path_; }

 private:
  void apply_controls(engine::Engine& engine);
  void answer(engine::Engine& engine, ControlRequest& request);
  void publish_state(engine::Engine& engine, const char* state);
  void publish_if_changed(Stream stream, std::map<std::string, std::string>& last,
                          std::map<std::string, std::string>& now);
  std::string order_json(std::uint64_t id) const;

  struct OrderView {
    Order order;
    double filled = 0, avg_price = 0;
    std::string status = "sent";
    Timestamp updated = 0;
  };

  Hub& hub_;
  MetricsRegistry& metrics_;
  const engine::EngineConfig& config_;
  const SymbolTable& symbols_;
  std::string run_name_;
  std::string audit_path_;
  std::FILE* audit_ = nullptr;
  engine::EngineObserver* next_;
  std::chrono::steady_clock::time_point last_publish_{};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::uint64_t ticks_at_publish_ = 0;
  double rate_in_ = 0;
  bool finished_ = false;
  bool timing_on_ = false;
  PnL last_pnl_;
  double peak_equity_ = 0, max_drawdown_ = 0;
  std::uint64_t signal_seq_ = 0, execution_seq_ = 0;
  std::map<std::uint64_t, OrderView> open_orders_;
  std::deque<OrderView> recent_orders_;
  std::deque<std::string> executions_;             // JSON, latest last
  std::map<std::uint64_t, Timestamp> order_sent_;  // for order -> fill latency
  std::uint64_t screens_published_ = ~0ull;
  std::map<std::string, std::string> pairs_last_, positions_last_, screener_last_, jobs_last_;
  std::string risk_last_;
  std::vector<std::pair<PairId, PairPoint>> points_;  // scratch
  std::deque<std::string> audit_recent_;              // kill switch audit, JSON
  std::uint64_t controls_ = 0;

  // Metrics the feed updates.
  Histogram* tick_to_bar_ = nullptr;
  Histogram* bar_to_signal_ = nullptr;
  Histogram* order_to_fill_ = nullptr;
  Histogram* screen_duration_ = nullptr;
};

}  // namespace pairflow::ui
