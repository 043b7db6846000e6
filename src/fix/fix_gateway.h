// FixGateway: the execution service's broker over a FIX 4.4 session (QuickFIX, as initiator).
//
// Orders go out as NewOrderSingle, cancels as OrderCancelRequest; ExecutionReports and
// OrderCancelRejects come back as broker reports. The session (logon, heartbeats, sequence
// numbers, resend requests, gap fills; memory or file store) is QuickFIX's; on top of it:
//   - an outbound queue, bounded (`queue_limit`): what cannot go out yet - no logon, or the
//     throttle - waits in order; past the limit an order is rejected at once ("fix_queue_full"),
//     never dropped silently;
//   - an outbound throttle (`throttle_per_s`, a token bucket with one second of burst);
//   - after a reconnect the session layer resends what the counterparty did not receive, orders
//     included, marked PossDup; a counterparty ignores a PossDup order whose ClOrdID it has (FIX's
//     rule, and fix-sim's), so an order is never executed twice. After a restart, the journal's
//     reconciliation (OrderStatusRequest) decides what is sent again, with the same ClOrdID;
//   - reports are de-duplicated by cumulative quantity: a report resent after a reconnect
//     (PossDup) or already covered by the start-up reconciliation books nothing twice.
// A report that cannot be read (a missing or garbled field) is counted with its reason and
// skipped; it never stops the gateway.
//
// view() (start-up reconciliation) waits for the logon (`logon_timeout_s`) and asks the status of
// every journaled order; it throws UserError when the counterparty cannot be reached or does not
// answer in `status_timeout_s`.
//
// Threads: send/cancel/advance/poll/view on the execution service's thread; QuickFIX's thread
// hands reports over through a mutex-guarded queue. Lifecycle: construct (starts connecting),
// use, destroy (logs out).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/symbols.h"
#include "exec/broker.h"
#include "fix/fix_codec.h"
#include "fix/fix_config.h"
#include "fix/quickfix_bridge.h"

namespace pairflow::fix {

struct GatewayCounts {
  std::uint64_t orders_sent = 0, cancels_sent = 0, throttled = 0, queue_full = 0;
  std::uint64_t duplicate_reports = 0;  // resent or already reconciled: booked once
  std::uint64_t bad_reports = 0;        // unreadable (missing/garbled fields): counted, skipped
  std::uint64_t unknown_reports = 0;    // for an order this gateway never sent
  std::uint64_t session_problems = 0;   // session-level rejects
  std::uint64_t logons = 0, logouts = 0;
};

class FixGateway : public exec::Broker, private BridgeEvents {
 public:
  // Throws UserError on bad settings or a store that cannot be opened.
  FixGateway(const GatewayConfig& config, const SymbolTable& symbols);
  ~FixGateway() override;

  void send(const Order& order, Timestamp now) override;
  void cancel(std::uint64_t client_order_id, Timestamp now) override;
  void advance(Timestamp now) override;
  void poll(std::vector<exec::BrokerReport>& out) override;
  exec::BrokerView view(const std::vector<Order>& orders) override;

  bool logged_on() const { return bridge_->logged_on(); }
  // Blocks until a report is waiting or `timeout` passes (a thread that only executes waits here
  // instead of spinning on poll()).
  bool wait_for_reports(std::chrono::microseconds timeout);
  std::size_t queued() const { return outbox_.size(); }
  GatewayCounts counts() const;
  // The first reason of each kind of unreadable report, for the log.
  std::vector<std::string> take_problems();

 private:
  void on_logon() override;
  void on_logout() override;
  void on_message(const FixMessage& message) override;
  void on_session_problem(const std::string& what) override;
  void flush();
  bool wait_for_logon(double timeout_s);

  GatewayConfig config_;
  const SymbolTable& symbols_;
  std::unique_ptr<QuickFixBridge> bridge_;
  // Service thread.
  std::deque<FixMessage> outbox_;
  std::vector<exec::BrokerReport> local_;  // reports made here (queue full)
  std::unordered_map<std::uint64_t, Order> orders_;
  std::unordered_map<std::uint64_t, double> cum_;  // cumulative filled, as booked
  std::set<std::uint64_t> acked_, done_;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point refilled_;
  // Shared with QuickFIX's thread.
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<ExecReport> inbox_;
  std::map<std::uint64_t, ExecReport> status_answers_;
  std::vector<std::string> problems_;
  GatewayCounts counts_;
};

}  // namespace pairflow::fix
