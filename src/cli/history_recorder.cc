#include "cli/history_recorder.h"

#include <fmt/format.h>

#include <filesystem>

#include "base/reject_policy.h"
#include "exec/execution_stage.h"
#include "model/json.h"
#include "screen/orchestrator.h"

namespace pairflow::cli {

std::string interval_label(Timestamp interval) {
  if (interval % kNanosPerHour == 0) return fmt::format("{}h", interval / kNanosPerHour);
  if (interval % kNanosPerMinute == 0) return fmt::format("{}m", interval / kNanosPerMinute);
  if (interval % kNanosPerSecond == 0) return fmt::format("{}s", interval / kNanosPerSecond);
  return fmt::format("{}ms", interval / 1'000'000);
}

HistoryRecorder::HistoryRecorder(const std::string& path, const SymbolTable& symbols,
                                 Timestamp bar_interval, engine::EngineObserver* next)
    : writer_(path),
      symbols_(symbols),
      bars_topic_("bars." + interval_label(bar_interval)),
      next_(next) {}

void HistoryRecorder::write(std::string_view topic, const std::string& json) {
  // The engine's messages are valid, but names come from the input (a 5,000-byte symbol): the
  // run stops with the reason rather than record half of it.
  Status s = writer_.append(topic, "", json);
  if (!s) throw UserError(fmt::format("--history {}: {}", writer_.path(), s.message()));
}

void HistoryRecorder::on_tick(const Tick& tick) {
  write("ticks", to_json(tick, symbols_));
  if (next_ && next_->wants_ticks()) next_->on_tick(tick);
}
void HistoryRecorder::on_bars(std::span<const Bar> bars) {
  for (const Bar& bar : bars) write(bars_topic_, to_json(bar, symbols_));
  if (next_) next_->on_bars(bars);
}
void HistoryRecorder::on_signal(const Signal& signal) {
  write("pairs.signals", to_json(signal));
  if (next_) next_->on_signal(signal);
}
void HistoryRecorder::on_order(const Order& order) {
  write("orders", to_json(order, symbols_));
  if (next_) next_->on_order(order);
}
void HistoryRecorder::on_execution(const Execution& execution) {
  write("executions", to_json(execution, symbols_));
  if (next_) next_->on_execution(execution);
}
void HistoryRecorder::on_pnl(const PnL& pnl) {
  write("pnl", to_json(pnl));
  if (next_) next_->on_pnl(pnl);
}
void HistoryRecorder::on_position(const Position& position) {
  write("positions", to_json(position, symbols_));
  if (next_) next_->on_position(position);
}
void HistoryRecorder::on_pair_pnl(const exec::PairPnl& pair) {
  write("pnl.pairs", exec::to_json(pair, symbols_));
  if (next_) next_->on_pair_pnl(pair);
}
void HistoryRecorder::on_audit(const exec::AuditEntry& entry) {
  write("control.audit", entry.to_json());
  if (next_) next_->on_audit(entry);
}
void HistoryRecorder::on_control(const screen::PairControl& control) {
  write("pairs.control", screen::to_json(control, symbols_));
  if (next_) next_->on_control(control);
}
void HistoryRecorder::on_slice_end(engine::Engine& engine, Timestamp now) {
  if (next_) next_->on_slice_end(engine, now);
}
void HistoryRecorder::on_wait(engine::Engine& engine) {
  if (next_) next_->on_wait(engine);
}
void HistoryRecorder::on_finish(engine::Engine& engine) {
  if (next_) next_->on_finish(engine);
}

void HistoryRecorder::close() {
  writer_.record_symbols(symbols_.names());
  writer_.commit();
}

engine::Summary run_history(const std::string& path, const engine::EngineConfig& config,
                            SymbolTable& symbols, engine::EngineObserver* observer) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw UserError(fmt::format("{}: no such history file", path));
  history::Query q;
  q.topic = "ticks";
  history::TickReader reader(path, q);  // throws "unknown topic 'ticks'" when none were recorded
  for (const std::string& name : reader.recorded_symbols()) symbols.intern(name);
  return engine::run_ticks(
      [&](Tick& tick, std::string&) {
        return reader.next(tick, symbols) ? engine::ReadResult::kTick : engine::ReadResult::kEnd;
      },
      config, symbols, observer);
}

}  // namespace pairflow::cli
