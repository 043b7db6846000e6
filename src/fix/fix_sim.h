// FixSimulator: a FIX 4.4 counterparty (QuickFIX acceptor) that executes orders with the paper
// broker's fill model (exec/paper_broker.h): latency, displayed size, book walk, resting limits,
// fees - so the gateway can be tried without a broker and tested over a real socket.
//
// Its market is a tick feed (the same generated market or CSV file the trader sees). Its clock is
// the TransactTime of the messages it receives: before it handles an order or a cancel stamped t,
// it replays the feed up to the order's arrival (t + latency + jitter), so fills are those the
// in-process paper broker would make. An order stamped before the clock meets the current market.
//
// It answers NewOrderSingle with ExecutionReports (new, fills, expiry or reject),
// OrderCancelRequest with a cancelled report or an OrderCancelReject, and OrderStatusRequest with
// an order status report (OrdRejReason 5 for an order it never received). A message it cannot
// read gets a reject naming the field, and is counted. An order with a ClOrdID it already has is
// refused and counted as a duplicate (the figure the crash tests check is zero), unless it is a
// session-level resend (PossDup), which FIX says to ignore.
//
// drop() closes the connection (as a network failure would); `drop_after_orders` does it once, as
// soon as that many orders were received and before their reports go out (the reports are stored
// and recovered by the gateway's resend request).
//
// Threads: QuickFIX's thread runs everything (one session); state() and drop() from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/symbols.h"
#include "exec/paper_broker.h"
#include "fix/fix_codec.h"
#include "fix/quickfix_bridge.h"

namespace pairflow::fix {

struct SimConfig {
  BridgeSettings session;  // acceptor: port, comp ids (sender FIXSIM, target PAIRFLOW), store
  exec::PaperConfig paper;
  std::uint64_t drop_after_orders = 0;  // 0: never
  std::string state_path;               // JSON state rewritten after every message ("" = none)
};

struct SimState {
  std::uint64_t orders = 0;           // NewOrderSingles received (resends included)
  std::uint64_t duplicates = 0;       // of those, with a ClOrdID it already had (refused)
  std::uint64_t resends_ignored = 0;  // PossDup resends of orders it has (FIX: ignored)
  std::uint64_t cancels = 0, status_requests = 0, bad_messages = 0, fills = 0, drops = 0;
  std::map<std::string, double> positions;  // by symbol, signed shares
  std::string to_json() const;
};

class FixSimulator : private BridgeEvents {
 public:
  // The feed hands out ticks in time order and returns false at its end. Throws UserError when
  // the port cannot be opened.
  FixSimulator(const SimConfig& config, std::function<bool(Tick&)> feed, SymbolTable& symbols);
  ~FixSimulator() override;

  void drop();
  SimState state() const;
  bool logged_on() const { return bridge_->logged_on(); }

 private:
  void on_message(const FixMessage& message) override;
  void on_logon() override {}
  void handle(const FixMessage& message);
  // The feed up to (and including the first tick at or after) `until`.
  void replay_until(Timestamp until);
  void answer(const std::vector<exec::BrokerReport>& reports);
  void reject_message(const FixMessage& message, const std::string& why);
  void save_state();

  SimConfig config_;
  std::function<bool(Tick&)> feed_;
  SymbolTable& symbols_;
  exec::PaperBroker paper_;
  std::optional<Tick> next_;
  bool feed_ended_ = false;
  Timestamp clock_ = 0;
  std::uint64_t exec_ids_ = 0;
  struct Known {
    Order order;
    double cum = 0, notional = 0, fees = 0;
    char status = '0';
  };
  std::map<std::uint64_t, Known> known_;
  std::map<std::uint64_t, std::string> cancel_ids_;
  mutable std::mutex mutex_;
  SimState state_;
  std::mutex save_mutex_;
  std::unique_ptr<QuickFixBridge> bridge_;  // last: stopped first
};

}  // namespace pairflow::fix
