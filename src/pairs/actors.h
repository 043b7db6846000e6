// PairActors: one small state machine per active pair, sharded by pair id across worker threads.
//
// Each actor trades the spread state machine of pairs/spread_state.h (flat / long spread / short
// spread; entry, exit, stop with cool-down, time stop), with the hedge ratio either by rolling OLS of log y on log x over
// the previous `window` bars (O(1) per bar: sums over a ring, re-summed every `window` bars) or by
// the Kalman filter of stats/kalman.h (z = forecast error / its standard deviation, after
// `window` warm-up bars). Numeric state is struct-of-arrays per shard; pair p lives in shard
// p % threads. A bar is every symbol's log close in one span shared by all shards: an actor reads
// its two legs from it (no copy per pair). Control messages (activate, deactivate, force_flat) go
// to the pair's shard mailbox and are applied, in posting order, at the start of the next step.
//
// Output: step() returns the signals with an action (enter/exit/stop) of this bar in pair-id
// order, merged from the shards, so it is identical whatever the number of threads. step_pair()
// advances one pair with its two legs' bar, for placements that receive bars pair by pair (the
// `pair_actors` job on Kafka, keyed by pair id): the same update as step(), so both placements
// trade with the same code. save() / restore() take one actor whole (activation, window, state),
// for checkpoints.
//
// Lifecycle: construct (starts threads - 1 workers; the calling thread is worker 0), post_*()
// and step() from one owner thread, destroy (joins). post_*() may be called from any thread.
// No allocation per step once the mailboxes and output buffers are warm.
#pragma once

#include <algorithm>
#include <barrier>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "model/messages.h"
#include "pairs/spread_state.h"
#include "stats/kalman.h"

namespace pairflow::pairs {

enum class HedgeMethod : std::uint8_t { kRollingOls, kKalman };

struct ActorsConfig {
  int window = 120;  // rolling OLS window, or the Kalman filter's calibration window
  HedgeMethod hedge = HedgeMethod::kRollingOls;
  // Kalman: delta as given. The initial state and its covariance come from the OLS of the first
  // full window (seed included), and so does the observation noise when kalman.ve is 0 (the
  // residual variance): the filter starts where the data says, in the data's units (log prices),
  // whatever the market.
  stats::KalmanHedgeOptions kalman{.delta = 1e-4, .ve = 0};
  int threads = 1;
};

// What an activation carries (from a pairs.control record).
struct PairSpec {
  PairId id = kNoPair;
  SymbolId y = 0, x = 0;
  double entry_z = 2.0, exit_z = 0.5, stop_z = 4.0;
  int max_hold_bars = 0;
};

class PairActors {
 public:
  PairActors(int num_symbols, const ActorsConfig& config);
  ~PairActors();
  PairActors(const PairActors&) = delete;
  PairActors& operator=(const PairActors&) = delete;

  // Mailbox posts; history (oldest first, same length) seeds the window of an activation.
  void post_activate(const PairSpec& spec, std::span<const double> log_y = {},
                     std::span<const double> log_x = {});
  void post_deactivate(PairId id);
  void post_force_flat(PairId id);
  // New entry / exit / stop thresholds for an active pair (an operator's change); its position and
  // window are kept.
  void post_thresholds(PairId id, double entry_z, double exit_z, double stop_z);

  // One bar for all symbols (log closes by symbol id, NaN = no bar). Signals with an action, in
  // pair id order; valid until the next step.
  std::span<const Signal> step(Timestamp ts, std::span<const double> log_close);
  // One pair's bar (owner thread, never during step()): pending posts are applied first. The
  // signal, hold included; nullopt when the pair is not active.
  std::optional<Signal> step_pair(PairId id, Timestamp ts, double log_y, double log_x);
  // Symbol ids up to n - 1 may be activated from now on (placements that learn symbols as they
  // come). Never shrinks.
  void grow_universe(int n) { num_symbols_ = std::max(num_symbols_, n); }

  // One actor whole, for checkpoints: restore() of what save() returned (into actors of the same
  // config) continues exactly, to the bit.
  struct ActorState {
    PairSpec spec;
    std::uint8_t state = 0, cooling = 0;
    std::int32_t held = 0, head = 0, filled = 0, since = 0;
    double ref_y = 0, ref_x = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    double hedge = kNaN, intercept = kNaN, sd = kNaN, z = kNaN;
    std::vector<double> ring;  // window * 2: (y, x) relative to ref, as stored
    bool kalman_started = false;
    stats::KalmanHedge::State kalman;
  };
  // Owner thread; pending posts are applied first. nullopt when the pair is not active.
  std::optional<ActorState> save(PairId id);
  // Replaces the pair's actor (owner thread). False when the state does not fit this config.
  bool restore(const ActorState& state);
  std::vector<PairId> active_ids() const;  // ascending

  // Queries after a step (owner thread): state and last z of an active pair.
  bool active(PairId id) const;
  PairState state(PairId id) const;  // kFlat when not active
  double z(PairId id) const;
  double hedge_ratio(PairId id) const;
  SpreadThresholds thresholds(PairId id) const;  // of an active pair (defaults otherwise)
  int active_count() const;
  int threads() const { return static_cast<int>(shards_.size()); }
  // Bytes of per-pair state other than the window ring (for the memory benchmark).
  static std::size_t state_bytes_per_pair(HedgeMethod hedge);

 private:
  struct Message {
    enum Kind : std::uint8_t { kActivate, kDeactivate, kForceFlat, kThresholds } kind;
    PairSpec spec;
    std::vector<double> seed_y, seed_x;
  };
  struct Shard;

  void run_shard(Shard& shard);
  void drain(Shard& shard);
  int new_slot(Shard& shard);
  // The update of slot k for one bar: hedge ratio, z, state machine; a signal with an action is
  // appended to the shard's output. The one implementation of a pair's trading logic.
  void update(Shard& shard, int k, Timestamp ts, double log_y, double log_x);
  void start_kalman(Shard& shard, int k);
  void worker(int index);

  ActorsConfig config_;
  int num_symbols_;
  std::vector<std::unique_ptr<Shard>> shards_;
  // Current bar, read by every shard during a step.
  Timestamp ts_ = 0;
  const double* bar_ = nullptr;
  std::unique_ptr<std::barrier<>> start_, done_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::vector<Signal> merged_;
};

}  // namespace pairflow::pairs
