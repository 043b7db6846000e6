// TopicFeed: the dashboard fed from the pipeline's topics instead of an engine in the same
// process: the built-in `ui` job (`pairflow run PIPELINE.toml` with a `ui` job in process, or
// `--job ui --brokers ...` on Kafka) reads what the trader and execution jobs publish
//   pnl, positions, pnl.pairs, pairs.control, pairs.signals, executions, control.status,
//   control.audit, the jobs' status records (jobs.status: stream::JobRunOptions::status_topic)
//   and the trader's screens (screener: the trader job's screener_topic)
// into the same hub, streams and documents as DashboardFeed, and turns the operators' kill switch
// commands into messages for the `control` topic; the execution job's answer on control.status
// answers them (in order). Pair commands need the engine in process and are refused here with a
// reason (the trader job takes no commands).
//
// Single-threaded: the job's thread. Messages of unknown topics are counted, not shown.
#pragma once

#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/metrics.h"
#include "ui/hub.h"

namespace pairflow::ui {

class TopicFeed {
 public:
  // Throws UserError when the audit log cannot be opened.
  // can_control: kill switch commands can reach the execution job (on Kafka, through `control`);
  // in process they cannot (the pipeline flows one way), and controls are refused with a reason.
  TopicFeed(Hub& hub, MetricsRegistry& metrics, std::string run_name, std::string audit_path,
            int publish_ms, bool can_control);
  ~TopicFeed();
  // One message; a malformed one is an error naming the topic and the problem ("" when fine).
  std::string on_message(std::string_view topic, std::string_view payload);
  // Between messages: republishes what changed (every publish_ms) and takes the operators'
  // commands; kill switch commands to send on `control` are appended to `control_out`.
  void on_wake(std::vector<std::string>& control_out);
  // The input ended: final state; controls answered 409 from now on.
  void finish();
  // This job's own name (its row in the jobs panel), the topic of the jobs' status records and
  // the topic of the trader's screens.
  void set_identity(std::string own_name, std::string status_topic, std::string screener_topic);

 private:
  struct PairView {
    std::string y, x, state = "flat";
    double hedge_ratio = 0, half_life = 0, pvalue = 0, entry_z = 0, exit_z = 0, stop_z = 0;
    double z = 0, qty_y = 0, qty_x = 0, net_pnl = 0;
    int trades = 0;
    bool has_z = false;
  };
  struct OrderView {
    std::string json_head;  // id, pair, symbol, side
    double filled = 0;
    std::string status;
    std::int64_t ts = 0;
  };
  // One job instance, from its status records.
  struct JobView {
    std::string job, name, state, metrics_json = "{}";
    std::int64_t ts = 0, interval_ms = 1000;
    double consumed = 0, produced = 0, dead_lettered = 0, skipped = 0, rate_in = 0, lag = 0;
    std::chrono::steady_clock::time_point received{};
    bool stale = false;
  };
  bool stale(const JobView& j, std::chrono::steady_clock::time_point now) const;
  void publish_state(const char* state);
  void publish_changes(Stream stream, std::map<std::string, std::string>& now,
                       std::map<std::string, std::string>& published);
  void answer(ControlRequest& r, int status, const std::string& body);
  std::string pair_json(std::uint32_t id, const PairView& p) const;

  Hub& hub_;
  MetricsRegistry& metrics_;
  std::string run_name_;
  std::FILE* audit_ = nullptr;
  std::string audit_path_;
  std::chrono::milliseconds publish_every_;
  std::chrono::steady_clock::time_point last_publish_{};
  bool dirty_ = true;
  std::map<std::uint32_t, PairView> pairs_;
  std::map<std::string, std::string> positions_;  // symbol -> JSON
  std::map<std::string, std::string> published_positions_, published_pairs_;
  std::string pnl_json_ = "{}";
  double peak_ = 0, max_drawdown_ = 0, equity_ = 0, net_pnl_ = 0;
  std::int64_t last_ts_ = 0;
  std::deque<std::string> executions_;
  std::map<std::string, OrderView> open_orders_;  // by client order id
  std::string risk_json_ = R"({"kill_switch":"none","trading_state":"active"})";
  std::string kill_ = "none", trading_ = "active";
  std::deque<std::string> audit_recent_;
  std::map<std::string, std::uint64_t> topic_counts_;
  std::string own_name_ = "ui", status_topic_ = "jobs.status", screener_topic_ = "screener";
  struct Candidate {
    std::string name, y, x, fields;  // fields: the record's candidate less its closing brace
  };
  std::vector<Candidate> candidates_;  // the last screen's, ranked
  std::string screen_head_;            // "tests":..,"passing":..,"screens":..[,"truncated":true]
  std::map<std::string, std::string> published_screen_;
  std::map<std::string, JobView> jobs_;  // by instance (the runner's checkpoint key)
  std::uint64_t signal_seq_ = 0, execution_seq_ = 0, errors_ = 0;
  bool can_control_;
  std::deque<ControlRequest> awaiting_;  // sent on `control`, waiting for control.status
};

}  // namespace pairflow::ui
