// Recording a demo or backtest into a history file (`--history FILE`), and replaying one
// (`backtest --from-history FILE`).
//
// HistoryRecorder is an EngineObserver that writes every accepted tick (`ticks`), the bars of each
// slice (`bars.<interval>`), signals, pair activations, leg orders, executions, positions, P&L and
// kill switch audit to the history store, and the symbol table, so a replay rebuilds the same
// symbol ids and makes byte-identical decisions. It passes every event on to `next`. Lifecycle:
// construct before the run, close() after it (commits; throws UserError). Pipeline thread.
#pragma once

#include <memory>
#include <string>

#include "engine/engine.h"
#include "engine/run_drivers.h"
#include "history/store.h"

namespace pairflow::cli {

class HistoryRecorder : public engine::EngineObserver {
 public:
  HistoryRecorder(const std::string& path, const SymbolTable& symbols, Timestamp bar_interval,
                  engine::EngineObserver* next);
  void close();

  bool wants_ticks() const override { return true; }
  void on_tick(const Tick& tick) override;
  void on_bars(std::span<const Bar> bars) override;
  void on_signal(const Signal& signal) override;
  void on_order(const Order& order) override;
  void on_execution(const Execution& execution) override;
  void on_pnl(const PnL& pnl) override;
  void on_position(const Position& position) override;
  void on_pair_pnl(const exec::PairPnl& pair) override;
  void on_audit(const exec::AuditEntry& entry) override;
  void on_control(const screen::PairControl& control) override;
  void on_slice_end(engine::Engine& engine, Timestamp now) override;
  void on_wait(engine::Engine& engine) override;
  void on_finish(engine::Engine& engine) override;

 private:
  void write(std::string_view topic, const std::string& json);
  history::HistoryWriter writer_;
  const SymbolTable& symbols_;
  std::string bars_topic_;
  engine::EngineObserver* next_;
};

// A recorded session's ticks through the engine, in the order they were recorded, with the
// recorded symbol table. Throws UserError when the file has no ticks.
engine::Summary run_history(const std::string& path, const engine::EngineConfig& config,
                            SymbolTable& symbols, engine::EngineObserver* observer);

// "1m", "30s", "500ms": the label of a bar interval in topic names (bars.1m).
std::string interval_label(Timestamp interval);

}  // namespace pairflow::cli
