// PairActors: one small state machine per active pair, sharded by pair id across worker threads.
//
// Each actor keeps the PairModel semantics (flat / long spread / short spread; entry, exit, stop
// with cool-down, time stop), with the hedge ratio either by rolling OLS of log y on log x over
// the previous `window` bars (O(1) per bar: sums over a ring, re-summed every `window` bars) or by
// the Kalman filter of stats/kalman.h (z = forecast error / its standard deviation, after
// `window` warm-up bars). Numeric state is struct-of-arrays per shard; pair p lives in shard
// p % threads. A bar is every symbol's log close in one span shared by all shards: an actor reads
// its two legs from it (no copy per pair). Control messages (activate, deactivate, force_flat) go
// to the pair's shard mailbox and are applied, in posting order, at the start of the next step.
//
// Output: step() returns the signals with an action (enter/exit/stop) of this bar in pair-id
// order, merged from the shards, so it is identical whatever the number of threads.
//
// Lifecycle: construct (starts threads - 1 workers; the calling thread is worker 0), post_*()
// and step() from one owner thread, destroy (joins). post_*() may be called from any thread.
// No allocation per step once the mailboxes and output buffers are warm.
#pragma once

#include <barrier>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "model/messages.h"
#include "pairs/pair_model.h"
#include "stats/kalman.h"

namespace pairflow::pairs {

enum class HedgeMethod : std::uint8_t { kRollingOls, kKalman };

struct ActorsConfig {
  int window = 120;  // rolling OLS window, or Kalman warm-up bars
  HedgeMethod hedge = HedgeMethod::kRollingOls;
  stats::KalmanHedgeOptions kalman;
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

  // One bar for all symbols (log closes by symbol id, NaN = no bar). Signals with an action, in
  // pair id order; valid until the next step.
  std::span<const Signal> step(Timestamp ts, std::span<const double> log_close);

  // Queries after a step (owner thread): state and last z of an active pair.
  bool active(PairId id) const;
  PairState state(PairId id) const;  // kFlat when not active
  double z(PairId id) const;
  double hedge_ratio(PairId id) const;
  int active_count() const;
  int threads() const { return static_cast<int>(shards_.size()); }
  // Bytes of per-pair state other than the window ring (for the memory benchmark).
  static std::size_t state_bytes_per_pair(HedgeMethod hedge);

 private:
  struct Message {
    enum Kind : std::uint8_t { kActivate, kDeactivate, kForceFlat } kind;
    PairSpec spec;
    std::vector<double> seed_y, seed_x;
  };
  struct Shard;

  void run_shard(Shard& shard);
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
