// PairModel: one pair's spread model, the plain reference of the pair actors (pairs/actors.h):
// the same spread state machine (pairs/spread_state.h), with the OLS refitted from the window at
// every bar (O(window)) where the actors keep running sums (O(1)). The actors are what trades;
// this model states the semantics in the fewest lines, and the tests hold the actors to it.
//
// The hedge ratio and intercept come from an OLS of log y on log x over the previous `window` bars
// (the current bar is scored out of sample, so a jump is not absorbed into its own fit). The spread
// s = log y - intercept - hedge_ratio * log x is scored as z = s / std(residuals of the window).
// States: flat, long spread (long y, short x when the hedge ratio is positive) and short spread.
//   flat  -> enter_long when z <= -entry_z, enter_short when z >= entry_z (but not beyond stop_z)
//   long  -> exit when z >= -exit_z; stop when z <= -stop_z; exit after max_hold_bars (0 = never)
//   short -> mirror image
// After a stop the pair stays flat until |z| <= exit_z again, so it does not re-enter a spread that
// just broke. Lifecycle: construct, optionally seed() with history, then on_bar() once per bar.
// Single-threaded; O(window) per bar.
#pragma once

#include <span>
#include <vector>

#include "model/messages.h"
#include "pairs/spread_state.h"

namespace pairflow::pairs {

struct PairModelConfig {
  int window = 120;
  double entry_z = 2.0;
  double exit_z = 0.5;
  double stop_z = 4.0;
  int max_hold_bars = 0;
};

class PairModel {
 public:
  PairModel(PairId id, const PairModelConfig& config);

  // Fills the window with history, oldest first (only the last `window` values matter).
  void seed(std::span<const double> log_y, std::span<const double> log_x);
  Signal on_bar(Timestamp ts, double log_y, double log_x);

  // Back to flat without a signal: the portfolio refused the entry this model just signalled.
  void force_flat() {
    state_ = PairState::kFlat;
    held_bars_ = 0;
  }

  // Everything on_bar() carries from one bar to the next, for checkpoints: loaded into a model of
  // the same config, it continues exactly (to the bit) as if it had never stopped.
  struct SavedState {
    std::vector<double> ys, xs;  // the window's ring buffer, as stored
    std::size_t head = 0, filled = 0;
    PairState state = PairState::kFlat;
    bool cooling_down = false;
    int held_bars = 0;
  };
  SavedState save() const;
  // False (nothing changed) when `saved` does not fit this model's window.
  bool load(const SavedState& saved);
  const PairModelConfig& config() const { return config_; }

  PairId id() const { return id_; }
  PairState state() const { return state_; }
  double hedge_ratio() const { return hedge_ratio_; }
  double intercept() const { return intercept_; }
  double z() const { return z_; }

 private:
  void push(double log_y, double log_x);
  bool fit();

  PairId id_;
  PairModelConfig config_;
  std::vector<double> ys_, xs_;  // ring buffer of the window
  std::size_t head_ = 0, filled_ = 0;
  double hedge_ratio_ = kNaN, intercept_ = kNaN, resid_sd_ = kNaN, z_ = kNaN;
  PairState state_ = PairState::kFlat;
  bool cooling_down_ = false;
  int held_bars_ = 0;
};

}  // namespace pairflow::pairs
