// PairSelection: how the engine chooses the pairs its actors trade. Two strategies behind one
// interface, so the engine has one path whatever the choice (config `discovery.method`):
//   - WarmupSelection: Engle-Granger over every pair once, after the warm-up window
//     (screen/pair_discovery.h); the pairs it selects trade until the end.
//   - ScreenerSelection: the streaming all-pairs screener re-screens every `screen_every` bars
//     over a rolling window, and the orchestrator activates and retires pairs with hysteresis
//     (screen/screener.h, screen/orchestrator.h).
// Both hand the engine PairControl records (pairs.control) with a seed window of log levels for
// each activation, so a new actor can score its first bar.
//
// Per closed bar, in order: observe() the bar's log closes, the engine trades the bar with the
// actors, then select() returns what changes from the next bar. Single-threaded (engine thread).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/symbols.h"
#include "engine/config.h"
#include "screen/orchestrator.h"
#include "screen/pair_discovery.h"
#include "screen/screener.h"

namespace pairflow::engine {

struct Selection {
  screen::PairControl control;
  std::vector<double> seed_y, seed_x;  // activations: recent log levels, oldest first
  screen::PairCandidate summary;       // activations: what the run summary reports of the pair
};

class PairSelection {
 public:
  virtual ~PairSelection() = default;
  // One closed bar: log closes by symbol id (NaN = no price yet), every symbol seen so far.
  virtual void observe(std::span<const double> log_close) = 0;
  // After the bar traded (`slices` closed so far, this one included): activations and
  // deactivations, appended to `out`. `flat(pair)` tells whether a pair holds nothing.
  virtual void select(Timestamp now, std::size_t slices, const std::function<bool(PairId)>& flat,
                      std::vector<Selection>& out) = 0;
  // True once the warm-up is over (P&L is reported from then on).
  virtual bool ready() const = 0;
  // For the summary: tests in the last screen, and how many passed.
  virtual int tests() const = 0;
  virtual int passing() const = 0;
  // The last screen's passing candidates, ranked (the dashboard's screener view), and how many
  // screens have run (it changes when the candidates do).
  virtual std::vector<screen::PairCandidate> candidates() const = 0;
  virtual std::uint64_t screens() const = 0;
};

// The last screen as one JSON record (the trader job's `screener_topic`, read by the ui job):
// {"ts", "tests", "passing", "screens", "candidates": [{"name": "Y~X", "y", "x", "pvalue",
// "adj_pvalue", "hedge_ratio", "half_life"}, ...]} with at most `max_candidates` of the ranked
// candidates (then "truncated": true; `passing` still counts them all).
std::string screener_json(const PairSelection& selection, const SymbolTable& symbols, Timestamp ts,
                          std::size_t max_candidates = 1000);

// The strategy `config.discovery_method` names. `universe` is the number of symbols the screener
// covers (the symbols seen when the first bar closed).
std::unique_ptr<PairSelection> make_pair_selection(const EngineConfig& config, int universe);

}  // namespace pairflow::engine
