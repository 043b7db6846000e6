// Engine: the trading dataflow of one process, on one thread.
//
//   ticks -> validation -> time bars -> pair selection -> pair actors -> signals
//         -> sizing -> spread intents -> execution stage (risk, kill switch, legging, journal,
//            paper broker) -> executions -> positions, P&L
//
// Every bar interval closes as one slice (all symbols' bars for that interval). Each slice: the
// log closes (forward-filled per symbol) go to the pair selection (engine/pair_selection.h: the
// warm-up discovery or the streaming screener, `discovery.method`), the pair actors
// (pairs/actors.h) trade the slice, and what the selection decides after it (activations with a
// seed window, retirements) takes effect from the next slice. An entry is sized at the mids of
// the closed interval into the pair's target position, an exit targets flat; each becomes one
// spread intent stamped with the bar's end time, followed by a slice mark. The intents go to the
// execution stage (exec/execution_stage.h), in process by default, or to an IntentSink (the
// trader job publishes them on `orders` for the `execution` job: the same stage, on its own).
// The tick that closed the interval reaches the stage only after the intents: no look-ahead.
//
// Bad ticks are rejected with a counted reason (RejectReason) and change no state. Deterministic:
// the same ticks and config give byte-identical logs. Lifecycle: construct, on_tick() per tick,
// finish() once, then summary(). Single-threaded.
#pragma once

#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/csv.h"
#include "engine/config.h"
#include "engine/pair_selection.h"
#include "engine/summary.h"
#include "exec/execution_stage.h"
#include "exec/market.h"
#include "features/time_bars.h"
#include "model/tick_check.h"
#include "pairs/actors.h"
#include "portfolio/portfolio.h"
#include "screen/orchestrator.h"
#include "screen/screener.h"

namespace pairflow::engine {

class Engine;

// Receives what the pipeline decides and does, in order, on the pipeline's thread. Not called per
// tick: only for signals with an action, orders, executions and the P&L after each trading bar.
class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  virtual void on_signal(const Signal& signal) = 0;
  virtual void on_order(const Order& order) = 0;
  virtual void on_execution(const Execution& execution) = 0;
  virtual void on_pnl(const PnL& pnl) = 0;
  virtual void on_position(const Position& position) {}
  virtual void on_pair_pnl(const exec::PairPnl& pair) {}
  virtual void on_audit(const exec::AuditEntry& entry) {}
  // Activations and deactivations of pairs (the `pairs.control` topic; screener mode).
  virtual void on_control(const screen::PairControl& control) {}
  // Every accepted tick, only when wants_ticks() (asked once, when the engine is made): a recorder
  // keeps them; observers that do not need them cost the tick path nothing.
  virtual bool wants_ticks() const { return false; }
  virtual void on_tick(const Tick& tick) {}
  // The bars of each closed slice, before its decisions.
  virtual void on_bars(std::span<const Bar> bars) {}
  // After every slice (the bar's decisions are made and executed), and while a paced driver waits
  // for the next tick (at most ~20 ms apart): the observer may read the engine and apply an
  // operator's commands (the dashboard does both).
  virtual void on_slice_end(Engine& engine, Timestamp now) {}
  virtual void on_wait(Engine& engine) {}
  // Once, after Engine::finish() (the drivers call it).
  virtual void on_finish(Engine& engine) {}
};

// An operator's command for one active pair (the dashboard's pair controls):
//   disable     no new entries; a position is left to exit by the model (or flattened)
//   enable      entries allowed again
//   flatten     disable, and exit the position at the next bar
//   thresholds  new entry / exit / stop z (0 <= exit < entry < stop); the position is kept
struct PairCommand {
  enum class Kind : std::uint8_t { kEnable, kDisable, kFlatten, kThresholds } kind = Kind::kDisable;
  double entry_z = 0, exit_z = 0, stop_z = 0;
};
// "enable", "disable", "flatten", "thresholds"; false for anything else.
bool parse_pair_command(std::string_view text, PairCommand::Kind& kind);

// Wall-clock timings of the last slice, measured only with set_timing(true): the closing tick's
// arrival to the slice's bars (tick -> bar), the bars to the slice's intents (bar -> signal), and
// the screen when one ran in it.
struct SliceTiming {
  double tick_to_bar_s = 0, bar_to_signal_s = 0, screen_s = 0;
  bool screened = false;
};

// JSON-lines logs of a run (signals, orders, executions, pnl), for audit and replay comparison.
class RunLog : public EngineObserver {
 public:
  // Creates `dir` if needed. Throws UserError.
  RunLog(const std::string& dir, const SymbolTable& symbols);
  ~RunLog() override;
  void on_signal(const Signal& signal) override;
  void on_order(const Order& order) override;
  void on_execution(const Execution& execution) override;
  void on_pnl(const PnL& pnl) override;
  // Flushes and closes every file; throws UserError when anything failed to reach the disk.
  void close();
  std::FILE* signals = nullptr;
  std::FILE* orders = nullptr;
  std::FILE* executions = nullptr;
  std::FILE* pnl = nullptr;

 private:
  std::string dir_;
  const SymbolTable& symbols_;
};

// Where intents go when the execution stage runs elsewhere (called per slice, not per tick).
class IntentSink {
 public:
  virtual ~IntentSink() = default;
  virtual void on_intent(const exec::SpreadIntent& intent) = 0;
  // trading: false during discovery's warm-up (its flat equity is not part of the Sharpe ratio).
  virtual void on_slice(Timestamp now, bool trading) = 0;
};

// The execution stage's part of a run's summary: orders, fills, risk, P&L, Sharpe and drawdown of
// its equity curve (the demo's engine and the `execution` job report the same way).
void add_execution(Summary& summary, const exec::ExecutionStage& stage, const EngineConfig& config,
                   const SymbolTable& symbols, Timestamp now);

class Engine : private exec::StageEvents {
 public:
  // With `sink`, intents and slice marks go there and the engine executes nothing itself.
  // Throws UserError (config, the journal or audit log cannot be opened).
  Engine(const EngineConfig& config, SymbolTable& symbols, EngineObserver* observer = nullptr,
         IntentSink* sink = nullptr);
  ~Engine() override;

  // Processes one tick; a non-OK status names why it was rejected (already counted).
  Status on_tick(const Tick& tick);
  // Counts a row that never became a tick (e.g. a CSV parse error).
  void count_reject(RejectReason reason, const std::string& detail);
  // Where the ticks come from: rejects are named by it ("FILE:LINE: problem", "ticks row N:
  // problem"). Called only for rejects.
  using Locator = std::function<std::string(const std::string& problem)>;
  void set_location(Locator where) { location_ = std::move(where); }
  void finish();

  Summary summary() const;
  // The in-process execution stage (null with an IntentSink).
  exec::ExecutionStage* stage() { return stage_.get(); }
  bool discovered() const { return selection_ && selection_->ready(); }
  // Every pair ever activated, by pair id (retired ones included).
  const std::vector<screen::PairCandidate>& active_pairs() const { return active_; }

  // What an observer reads between slices (the pipeline's thread).
  const EngineConfig& config() const { return config_; }
  const SymbolTable& symbols() const { return symbols_; }
  const pairs::PairActors* actors() const { return actors_.get(); }
  const PairSelection* selection() const { return selection_.get(); }
  bool pair_enabled(PairId id) const { return id >= disabled_.size() || !disabled_[id]; }
  const std::vector<double>& last_close() const { return last_close_; }  // by symbol
  Timestamp last_slice() const { return last_slice_; }
  std::uint64_t ticks() const { return ticks_; }
  std::uint64_t bars() const { return bars_count_; }
  std::size_t slices() const { return slices_; }
  std::uint64_t intents() const { return intents_; }
  std::uint64_t rejects(RejectReason reason) const { return rejects_[static_cast<int>(reason)]; }
  std::uint64_t refused_signals() const { return refused_signals_; }
  void set_timing(bool on) { timing_ = on; }
  const SliceTiming& timing() const { return timing_last_; }

  // Operator commands (the pipeline's thread, between ticks). The answer: "" when applied (or
  // already in effect: commands are idempotent), else why not.
  std::string pair_command(PairId id, const PairCommand& command);
  // Kill switch, resume, re-arm, acknowledge: the execution stage's one-line JSON answer.
  std::string command(const exec::ControlCommand& command);

 private:
  Status reject(RejectReason reason, std::string detail);  // prefixes the location
  Status counted(RejectReason reason, std::string detail);
  void on_slice(Timestamp start, std::span<const Bar> bars);
  void apply(const Selection& selection);
  void trade_slice(Timestamp now);
  void on_order(const Order& order) override;
  void on_execution(const Execution& execution) override;
  void on_pnl(const PnL& pnl) override;
  void on_position(const Position& position) override;
  void on_pair_pnl(const exec::PairPnl& pair) override;
  void on_audit(const exec::AuditEntry& entry) override;

  EngineConfig config_;
  SymbolTable& symbols_;
  EngineObserver* log_;
  bool tick_observer_ = false;  // log_->wants_ticks()
  IntentSink* sink_;
  Locator location_;
  features::TimeBarAggregator bars_;
  exec::MarketBook market_;  // the quotes entries are sized at
  std::unique_ptr<exec::ExecutionStage> stage_;
  std::vector<std::pair<SymbolId, SymbolId>> pair_legs_;  // by pair id
  std::unique_ptr<PairSelection> selection_;              // made when the first bar closes
  std::unique_ptr<pairs::PairActors> actors_;
  int actor_universe_ = 0;       // symbols the actors know (a prefix of the symbol table)
  std::vector<Signal> signals_;  // this slice's signals with an action, in pair id order
  std::vector<Selection> selections_;
  std::vector<double> log_close_;
  std::vector<screen::PairCandidate> active_;
  std::vector<double> last_close_;  // by symbol
  std::size_t slices_ = 0;
  std::vector<char> disabled_;           // by pair id: an operator disabled entries
  std::vector<PairId> flatten_pending_;  // exit at the next slice
  std::uint64_t disabled_entries_ = 0;
  bool timing_ = false;
  Timestamp timing_boundary_ = std::numeric_limits<Timestamp>::min();  // a tick at or after it
                                                                       // closes a slice
  std::chrono::steady_clock::time_point tick_wall_;
  SliceTiming timing_last_;
  Timestamp last_ts_ = std::numeric_limits<Timestamp>::min();

  // Counters and the equity curve for the summary.
  std::uint64_t ticks_ = 0, bars_count_ = 0, intents_ = 0;
  std::uint64_t refused_signals_ = 0;
  std::string first_refused_signal_;
  std::array<std::uint64_t, static_cast<int>(RejectReason::kCount)> rejects_{};
  std::array<std::string, static_cast<int>(RejectReason::kCount)> first_reject_;
  Timestamp last_slice_ = 0;
};

}  // namespace pairflow::engine
