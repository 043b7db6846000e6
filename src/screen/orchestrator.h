// Orchestrator: turns the screener's ranked candidate lists into pair activations and
// deactivations with hysteresis and a capacity limit, as `pairs.control` records.
//
// A pair (unordered symbols) is activated when it has passed `activate_after` consecutive screens,
// the number of active pairs is below `max_active` and neither symbol is already in
// `max_pairs_per_symbol` active pairs; candidates are considered in rank order. An active pair is
// deactivated when it has failed `deactivate_after` consecutive screens AND its actor is flat
// (never while it holds a position). Activation keeps the direction (y on x), hedge ratio and
// half-life of the screen that activated it and assigns the next PairId (ids are never reused).
// Per screen the records come out deactivations first (by pair id), then activations (by rank):
// the same screens and flat answers give the same records.
//
// Lifecycle: construct, on_screen() after each screen. Single-threaded (the screener's thread).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/symbols.h"
#include "base/time.h"
#include "model/messages.h"
#include "screen/screener.h"

namespace pairflow::screen {

struct OrchestratorConfig {
  int activate_after = 3;    // M: consecutive passing screens before activation
  int deactivate_after = 3;  // M': consecutive failing screens before deactivation (when flat)
  int max_active = 50;
  int max_pairs_per_symbol = 1;  // 0 = no limit
  // Trading thresholds carried by activation records (the pair actor's state machine).
  double entry_z = 2.0, exit_z = 0.5, stop_z = 4.0;
  int max_hold_bars = 0;
};

enum class ControlAction : std::uint8_t { kActivate, kDeactivate };
const char* to_string(ControlAction action);

// One `pairs.control` message (key: pair id).
struct PairControl {
  Timestamp ts = 0;
  PairId pair = kNoPair;
  ControlAction action = ControlAction::kActivate;
  SymbolId y = 0, x = 0;
  double hedge_ratio = kNaN, intercept = kNaN, half_life = kNaN, pvalue = kNaN;
  double entry_z = kNaN, exit_z = kNaN, stop_z = kNaN;
  int max_hold_bars = 0;
};

// {"ts":..,"pair":..,"action":"activate"|"deactivate","y":"SYM","x":"SYM","hedge_ratio":..,
//  "intercept":..,"half_life":..,"pvalue":..,"entry_z":..,"exit_z":..,"stop_z":..,
//  "max_hold_bars":..}; ts in ns since the epoch, numbers shortest round-trip, NaN as null.
std::string to_json(const PairControl& control, const SymbolTable& symbols);

class Orchestrator {
 public:
  explicit Orchestrator(const OrchestratorConfig& config);
  static Status validate(const OrchestratorConfig& config);

  // is_flat(pair) answers whether the active pair's actor holds no position. Appends the records
  // of this screen to `out`.
  void on_screen(Timestamp ts, const ScreenResult& result,
                 const std::function<bool(PairId)>& is_flat, std::vector<PairControl>& out);

  int active_count() const { return active_count_; }
  // Active pairs in id order.
  std::vector<PairControl> active() const;

 private:
  struct Track {
    int pass_streak = 0, fail_streak = 0;
    bool passed_now = false, active = false;
    PairId id = kNoPair;
    ScreenCandidate last;
    PairControl activation;
  };
  using Key = std::pair<SymbolId, SymbolId>;  // (min, max)

  OrchestratorConfig config_;
  std::map<Key, Track> tracks_;
  std::map<PairId, Key> active_;
  std::map<SymbolId, int> symbol_use_;
  int active_count_ = 0;
  PairId next_id_ = 0;
};

}  // namespace pairflow::screen
