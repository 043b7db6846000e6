// ExecutionStage: the execution job's work, the same code in process (the engine of `pairflow
// demo` and `backtest`) and as the built-in `execution` job on its own (on Kafka).
//
//   intents (target positions per pair) + slice marks ---.
//   ticks (the market) -----------------------------------+--> execution service --> broker
//   control commands (kill switch) -----------------------'        |
//                      executions, positions, pnl (per symbol, per pair, total) <--+
//
// An intent carries the pair's target position; the stage sends the difference from what the pair
// holds (from fills), so a decision delivered twice, or after an incomplete one, never trades more
// than the target. A newer intent for a pair with one still working supersedes it: the working
// orders are cancelled and the newer one trades from what the first left. A slice mark says the
// decisions up to its time are made: positions are marked at the last trades, P&L goes out, and
// the loss and drawdown limits see the equity.
//
// The broker is the paper broker (exec/paper_broker.h, fed with the same ticks) unless one is
// given (the FIX gateway). With a journal, start() reconciles it with the broker before anything
// is sent; with the paper broker, which lives and dies with the process, the journal restores it.
//
// Single-threaded: every call on the owner's thread, in event-time order. Deterministic for the
// same input and config.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "exec/execution.h"
#include "exec/paper_broker.h"
#include "exec/wire.h"
#include "portfolio/portfolio.h"

namespace pairflow::exec {

struct StageConfig {
  ExecConfig exec;
  PaperConfig paper;
  double initial_capital = 1e6;
  std::string journal_path;  // empty: no journal (a backtest)
  bool journal_full_sync = true;
  std::string audit_path;  // kill switch triggers and re-arms, JSON lines (appended); "" = none
};

// A pair's book after a slice (the `pnl` topic's per-pair messages).
struct PairPnl {
  Timestamp ts = 0;
  PairId pair = kNoPair;
  SymbolId y = 0, x = 0;
  double qty_y = 0, qty_x = 0, net_pnl = 0, fees = 0;
  int trades = 0;
};
std::string to_json(const PairPnl& p, const SymbolTable& symbols);

class StageEvents {
 public:
  virtual ~StageEvents() = default;
  virtual void on_order(const Order& order) {}
  virtual void on_execution(const Execution& execution) {}
  virtual void on_pnl(const PnL& pnl) {}
  virtual void on_position(const Position& position) {}  // symbols that traded since the last mark
  virtual void on_pair_pnl(const PairPnl& pair) {}       // pairs that hold or traded
  virtual void on_audit(const AuditEntry& entry) {}
};

class ExecutionStage : private ExecutionEvents {
 public:
  // Throws UserError when the journal or audit log cannot be opened.
  // `broker`: null for the paper broker of config.paper. `journal`: null for the SQLite journal
  // at config.journal_path (none when empty); the execution job on Kafka passes a topic's.
  ExecutionStage(const StageConfig& config, SymbolTable& symbols, StageEvents& events,
                 std::unique_ptr<Broker> broker = nullptr,
                 std::unique_ptr<OrderJournal> journal = nullptr);
  ~ExecutionStage() override;
  ExecutionStage(const ExecutionStage&) = delete;
  ExecutionStage& operator=(const ExecutionStage&) = delete;

  // Reconciles the journal with the broker; the differences found (trading stays blocked until
  // an operator acknowledges them). Call once, before anything else.
  std::vector<std::string> start(Timestamp now);

  void on_tick(const Tick& tick);
  // Invalid intents (unknown legs, a pair's legs changed) are counted and refused: false.
  bool on_intent(const SpreadIntent& target);
  // trading: false while the trader warms up; the equity curve (Sharpe, drawdown) starts after it.
  void on_slice(Timestamp now, bool trading = true);
  // Takes the broker's reports now, at the stage's time (a live broker's reports arrive between
  // messages).
  void poll_broker() { pump(now_); }
  // Applies a command; the answer is a one-line JSON status ({"ok":..,"error":..,...}).
  std::string on_command(const ControlCommand& command);
  // End of a finite input: what travels arrives, the legging policy runs out, a last mark.
  void finish();

  std::string status_json(bool ok, const std::string& error = "") const;
  Timestamp now() const { return now_; }
  const ExecutionService& service() const { return service_; }
  ExecutionService& service() { return service_; }
  const portfolio::Portfolio& books() const { return books_; }
  const MarketBook& market() const { return market_; }
  PaperBroker* paper() { return paper_; }
  std::uint64_t refused_intents() const { return refused_intents_; }
  std::uint64_t duplicate_intents() const { return duplicate_intents_; }
  // Net P&L had every order filled whole at the touch when it was decided (the naive fill model):
  // net P&L + the cost of realism.
  double ideal_net_pnl(double net_pnl) const;
  // Equity after each trading slice.
  const std::vector<double>& equity_curve() const { return equity_; }

 private:
  void on_order(const Order& order) override;
  void on_execution(const Execution& execution) override;
  void on_kill_switch(const AuditEntry& entry) override;
  void submit_target(const SpreadIntent& target);
  void pump(Timestamp now);  // service time, then superseding intents whose pair is free

  StageConfig config_;
  SymbolTable& symbols_;
  StageEvents& events_;
  MarketBook market_;
  PaperBroker* paper_ = nullptr;  // before broker_: set while broker_ is made
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<OrderJournal> journal_;
  ExecutionService service_;
  portfolio::Portfolio books_;
  std::map<PairId, SpreadIntent> pending_;           // waiting for the pair's working intent to end
  std::vector<char> traded_symbols_, traded_pairs_;  // since the last slice
  std::FILE* audit_ = nullptr;
  Timestamp now_ = 0;
  std::vector<double> equity_;
  std::uint64_t refused_intents_ = 0, duplicate_intents_ = 0;
};

}  // namespace pairflow::exec
