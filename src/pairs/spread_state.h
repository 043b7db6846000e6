// The spread state machine of a pair, the one implementation every pair model trades with:
//   flat  -> enter_long when z <= -entry_z, enter_short when z >= entry_z (but not beyond stop_z)
//   long  -> exit when z >= -exit_z; stop when z <= -stop_z; stop after max_hold_bars (0 = never)
//   short -> mirror image
// After a stop the pair stays flat until |z| <= exit_z again, so it does not re-enter a spread that
// just broke. Pure function of its arguments; any thread.
#pragma once

#include <cmath>
#include <cstdint>

#include "model/messages.h"

namespace pairflow::pairs {

enum class PairState : std::uint8_t { kFlat, kLongSpread, kShortSpread };

struct SpreadThresholds {
  double entry_z = 2.0, exit_z = 0.5, stop_z = 4.0;
  int max_hold_bars = 0;
};

struct SpreadPosition {
  PairState state = PairState::kFlat;
  bool cooling_down = false;
  int held_bars = 0;
};

// One bar's z-score through the state machine: the action it takes, `position` updated.
inline SignalAction advance(SpreadPosition& position, double z, const SpreadThresholds& t) {
  SignalAction action = SignalAction::kHold;
  if (position.state == PairState::kFlat) {
    if (position.cooling_down) {
      if (std::fabs(z) <= t.exit_z) position.cooling_down = false;
    } else if (z <= -t.entry_z && z > -t.stop_z) {
      position.state = PairState::kLongSpread;
      action = SignalAction::kEnterLong;
    } else if (z >= t.entry_z && z < t.stop_z) {
      position.state = PairState::kShortSpread;
      action = SignalAction::kEnterShort;
    }
    position.held_bars = 0;
    return action;
  }
  ++position.held_bars;
  const double signed_z = position.state == PairState::kLongSpread ? z : -z;  // < 0 diverged
  if (signed_z <= -t.stop_z) {
    action = SignalAction::kStop;
    position.cooling_down = true;
  } else if (signed_z >= -t.exit_z) {
    action = SignalAction::kExit;
  } else if (t.max_hold_bars > 0 && position.held_bars >= t.max_hold_bars) {
    action = SignalAction::kStop;  // time stop
    position.cooling_down = true;
  }
  if (action != SignalAction::kHold) position.state = PairState::kFlat;
  return action;
}

}  // namespace pairflow::pairs
