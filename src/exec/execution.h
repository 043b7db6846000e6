// ExecutionService: everything between a pair's decision and the market.
//
//   intent (both legs) -> pre-trade risk on each leg and on the intent -> journal (write-ahead)
//     -> broker -> reports -> order state machine -> fills -> positions, P&L (the caller's books)
//
// Intents: an entry or exit of a pair is one intent with two leg orders, sent together. When a leg
// ends short of its target (rejected, expired, cancelled, or cancelled by the service after
// `leg_timeout`), the legging policy applies:
//   - unwind (the default for entries): the legs that filled are reversed, so the pair is flat
//     again and no unhedged position is left;
//   - chase: the missing quantity is sent again as a marketable limit at most
//     `chase_slippage_bps` through the touch, up to `max_attempts` times, then unwound.
// Exits and flattening always chase (an exit must complete), the last attempt as a market order.
// The unhedged notional (legs filled without their other leg) is a metric and a risk limit.
//
// The kill switch (exec/kill_switch.h) and the trading state of pre-trade risk (exec/risk.h)
// decide what may be sent; flatten cancels every working order and then closes each pair's
// position with hedged exits. Denials and broker rejections become rejected executions with a
// reason code, counted per reason.
//
// Restart: recover() reconciles the journal with the broker before anything is sent. Orders the
// journal wrote but the broker never received are sent (same client order id: a broker seeing it
// twice rejects the second); fills the broker made while the process was down are booked; a
// difference in positions is reported and blocks trading until an operator acknowledges it.
//
// Single-threaded: owned by the engine's (or the execution job's) thread. Deterministic: the same
// intents, market and broker reports give the same orders and executions, byte for byte.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/symbols.h"
#include "exec/broker.h"
#include "exec/journal.h"
#include "exec/kill_switch.h"
#include "exec/market.h"
#include "exec/order.h"
#include "exec/risk.h"

namespace pairflow::exec {

enum class LeggingPolicy : std::uint8_t { kUnwind, kChase };
const char* to_string(LeggingPolicy policy);

struct LeggingConfig {
  LeggingPolicy policy = LeggingPolicy::kUnwind;
  Timestamp leg_timeout = 30 * kNanosPerSecond;  // a leg still working after this is cancelled
  double chase_slippage_bps = 20;                // how far through the touch a chase may go
  int max_attempts = 3;                          // chases (or unwinds) of one intent
};

struct ExecConfig {
  RiskLimits risk;
  LeggingConfig legging;
};

// What the execution service tells its owner, in order, on the owner's thread.
class ExecutionEvents {
 public:
  virtual ~ExecutionEvents() = default;
  virtual void on_order(const Order& order) {}  // sent to the broker
  // Every execution report: acknowledgements, fills, rejections (risk denials included),
  // cancellations, expiries. Fills (qty > 0) are what the books follow.
  virtual void on_execution(const Execution& execution) {}
  // An intent is over: complete, or failed (its legs did not complete and were unwound).
  virtual void on_intent_end(const SpreadIntent& intent, bool complete) {}
  virtual void on_kill_switch(const AuditEntry& entry) {}
};

class ExecutionService {
 public:
  ExecutionService(const ExecConfig& config, Broker& broker, const MarketBook& market,
                   SymbolTable& symbols, ExecutionEvents& events, OrderJournal* journal = nullptr);

  // Pre-trade checks on both legs (and the intent's capital) before either is sent. False when
  // denied: nothing was sent, and the reasons went out as rejected executions.
  bool submit(const SpreadIntent& intent, Timestamp now);
  // Reports since the last call, leg timeouts, the legging policy, flattening. Call after every
  // market update and decision.
  void on_time(Timestamp now);
  // Equity after a mark: loss and drawdown limits (a breach moves the trading state and pauses).
  void on_equity(Timestamp now, double equity);

  bool kill(KillMode mode, Timestamp now, std::string by, std::string reason);
  void rearm(Timestamp now, std::string by, double equity, std::string reason = "",
             std::string action = "rearm");
  const KillSwitch& kill_switch() const { return kill_; }
  TradingState trading_state() const { return risk_.state(); }
  const RiskEngine& risk() const { return risk_; }

  // Reconciles the journal with the broker (at start-up, before any submit). Returns the
  // differences found; while any remain unacknowledged, nothing is sent.
  std::vector<std::string> recover(Timestamp now);
  void acknowledge(Timestamp now, std::string by);
  bool blocked() const { return blocked_; }

  // Signed shares per symbol, from fills.
  double position(SymbolId symbol) const;
  // A pair's filled legs (signed shares of y and x).
  std::pair<double, double> pair_position(PairId pair) const;
  double unhedged_notional() const;
  // Sum over fills of what they cost against the touch when decided (slippage, latency, impact).
  double realism_cost() const { return realism_cost_; }
  bool idle() const;  // nothing working, nothing travelling
  // An intent id seen before (working, finished, or read back from the journal): a decision
  // delivered twice (a replayed input after a restart) is carried out once.
  bool known_intent(std::uint64_t id) const { return seen_intents_.count(id) > 0; }
  // The pair has an intent still working.
  bool pair_busy(PairId pair) const;
  // A newer decision for the pair replaces the working one: its working orders are cancelled and
  // the legging policy no longer applies to it (the new intent trades from whatever it left).
  void supersede(PairId pair, Timestamp now);
  // Registers a pair's legs (the books attribute fills to pairs by them).
  void set_pair(PairId pair, SymbolId y, SymbolId x);
  // Pairs holding a position.
  std::vector<PairId> pairs_with_position() const;

  struct Counts {
    std::uint64_t intents = 0, intents_failed = 0, orders = 0, fills = 0, denials = 0,
                  broker_rejects = 0, cancels = 0, expiries = 0, unwinds = 0, chases = 0;
  };
  const Counts& counts() const { return counts_; }
  const std::vector<OrderRecord>& history() const { return history_; }

 private:
  struct IntentState {
    IntentRecord record;
    std::vector<std::uint64_t> orders;  // every order of the intent, in sending order
    double filled_y = 0, filled_x = 0;  // signed shares toward the targets
    bool unwinding = false;
    bool superseded = false;
    Timestamp sent = 0;
  };
  struct PairPosition {
    SymbolId y = 0, x = 0;
    double qty_y = 0, qty_x = 0;
  };

  bool adds_risk(const IntentState& s, LegRole role) const;
  RiskView view_of(SymbolId symbol, Timestamp now) const;
  Order make_order(const IntentState& s, LegRole role, SymbolId symbol, double signed_qty,
                   Timestamp now, bool marketable_limit);
  // Risk-checks and sends one order; false (and a rejected execution) when denied.
  bool send(IntentState& s, const Order& order, LegRole role, bool adds, Timestamp now);
  void deny(const Order& order, const char* reason, Timestamp now);
  void handle(const BrokerReport& report);
  void book_fill(const OrderRecord& r, double qty);
  void evaluate(IntentState& s, Timestamp now);
  void flatten(Timestamp now);
  void cancel_working(Timestamp now, bool keep_flatten);
  void journal(const OrderRecord& r);
  void journal(const IntentState& s);
  Execution execution_of(const OrderRecord& r, ExecStatus status, Timestamp ts, double qty,
                         double price, double fee, const char* reason) const;

  ExecConfig config_;
  Broker& broker_;
  const MarketBook& market_;
  SymbolTable& symbols_;
  ExecutionEvents& events_;
  OrderJournal* journal_;
  RiskEngine risk_;
  KillSwitch kill_;
  std::map<std::uint64_t, OrderRecord> orders_;   // by client order id
  std::map<std::uint64_t, IntentState> intents_;  // by intent id, live ones
  std::map<std::uint64_t, std::uint64_t> intent_of_;
  std::vector<std::uint64_t> intent_order_;  // live intent ids, in submission order
  std::map<PairId, PairPosition> pairs_;
  std::vector<double> positions_;  // by symbol
  std::vector<BrokerReport> reports_;
  std::unordered_set<std::uint64_t> seen_intents_;
  mutable std::vector<double> exposure_;  // scratch of view_of()
  std::vector<OrderRecord> history_;      // finished orders, for reports
  double realism_cost_ = 0;
  bool blocked_ = false;
  Counts counts_;
};

}  // namespace pairflow::exec
