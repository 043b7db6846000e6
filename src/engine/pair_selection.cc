#include "engine/pair_selection.h"

#include <algorithm>
#include <cmath>

#include "base/json_writer.h"
#include "base/status.h"

namespace pairflow::engine {
namespace {

class WarmupSelection : public PairSelection {
 public:
  explicit WarmupSelection(const EngineConfig& config) : config_(config) {}

  void observe(std::span<const double> log_close) override {
    if (done_) return;
    // Symbols first seen late get NaN for the slices before.
    while (history_.size() < log_close.size()) history_.emplace_back(slices_, kNaN);
    for (std::size_t s = 0; s < history_.size(); ++s) history_[s].push_back(log_close[s]);
    ++slices_;
  }

  void select(Timestamp now, std::size_t slices, const std::function<bool(PairId)>&,
              std::vector<Selection>& out) override {
    if (done_ || slices < static_cast<std::size_t>(config_.warmup_bars)) return;
    done_ = true;
    auto result = screen::discover_pairs(history_, config_.discovery, screener_config(config_));
    PAIRFLOW_CHECK(result.is_ok(),
                   "validated discovery config was refused: " + result.status().message());
    tests_ = result->tests;
    passing_ = static_cast<int>(result->passing.size());
    passing_list_ = result->passing;
    const std::size_t window = static_cast<std::size_t>(config_.pair_model.window);
    PairId next = 0;
    for (const auto& c : result->selected) {
      Selection s;
      s.control = screen::PairControl{.ts = now,
                                      .pair = next++,
                                      .action = screen::ControlAction::kActivate,
                                      .y = c.y,
                                      .x = c.x,
                                      .hedge_ratio = c.hedge_ratio,
                                      .intercept = c.intercept,
                                      .half_life = c.half_life,
                                      .pvalue = c.adj_pvalue,
                                      .entry_z = config_.pair_model.entry_z,
                                      .exit_z = config_.pair_model.exit_z,
                                      .stop_z = config_.pair_model.stop_z,
                                      .max_hold_bars = config_.pair_model.max_hold_bars};
      const auto& ys = history_[c.y];
      const auto& xs = history_[c.x];
      const std::size_t from = ys.size() > window ? ys.size() - window : 0;
      s.seed_y.assign(ys.begin() + static_cast<std::ptrdiff_t>(from), ys.end());
      s.seed_x.assign(xs.begin() + static_cast<std::ptrdiff_t>(from), xs.end());
      s.summary = c;
      out.push_back(std::move(s));
    }
    history_.clear();
    history_.shrink_to_fit();
  }

  bool ready() const override { return done_; }
  int tests() const override { return tests_; }
  int passing() const override { return passing_; }
  std::vector<screen::PairCandidate> candidates() const override { return passing_list_; }
  std::uint64_t screens() const override { return done_ ? 1 : 0; }

 private:
  const EngineConfig& config_;
  std::vector<screen::PairCandidate> passing_list_;
  std::vector<std::vector<double>> history_;  // by symbol, one log close per slice
  std::size_t slices_ = 0;
  bool done_ = false;
  int tests_ = 0, passing_ = 0;
};

class ScreenerSelection : public PairSelection {
 public:
  ScreenerSelection(const EngineConfig& config, int universe)
      : config_(config),
        universe_(universe),
        screener_(universe, screener_config(config)),
        orchestrator_(orchestrator_config(config)) {}

  void observe(std::span<const double> log_close) override {
    log_close_.assign(log_close.begin(), log_close.begin() + universe_);
    screener_.on_bar(log_close_);
  }

  void select(Timestamp now, std::size_t slices, const std::function<bool(PairId)>& flat,
              std::vector<Selection>& out) override {
    const auto warmup = static_cast<std::size_t>(config_.warmup_bars);
    if (slices < warmup) return;
    ready_ = true;
    if ((slices - warmup) % static_cast<std::size_t>(config_.screen_every) != 0) return;
    screener_.screen(result_);
    ++screens_;
    tests_ = static_cast<int>(result_.tests);
    passing_ = static_cast<int>(result_.candidates.size());
    controls_.clear();
    orchestrator_.on_screen(now, result_, flat, controls_);
    for (const screen::PairControl& c : controls_) {
      Selection s;
      s.control = c;
      if (c.action == screen::ControlAction::kActivate) {
        screener_.window_levels(c.y, s.seed_y);
        screener_.window_levels(c.x, s.seed_x);
        // Window levels are relative to a per-symbol reference; shift them back to absolute logs.
        const double shift_y = log_close_[c.y] - s.seed_y.back();
        const double shift_x = log_close_[c.x] - s.seed_x.back();
        for (double& v : s.seed_y) v += shift_y;
        for (double& v : s.seed_x) v += shift_x;
        const std::size_t keep =
            std::min(s.seed_y.size(), static_cast<std::size_t>(config_.pair_model.window));
        s.seed_y.erase(s.seed_y.begin(), s.seed_y.end() - static_cast<std::ptrdiff_t>(keep));
        s.seed_x.erase(s.seed_x.begin(), s.seed_x.end() - static_cast<std::ptrdiff_t>(keep));
        s.summary.y = c.y;
        s.summary.x = c.x;
        s.summary.hedge_ratio = c.hedge_ratio;
        s.summary.intercept = c.intercept;
        s.summary.pvalue = c.pvalue;
        s.summary.adj_pvalue = c.pvalue;
        s.summary.half_life = c.half_life;
      }
      out.push_back(std::move(s));
    }
  }

  bool ready() const override { return ready_; }
  int tests() const override { return tests_; }
  int passing() const override { return passing_; }
  std::vector<screen::PairCandidate> candidates() const override {
    std::vector<screen::PairCandidate> out;
    out.reserve(result_.candidates.size());
    for (const screen::ScreenCandidate& c : result_.candidates) {
      out.push_back(screen::PairCandidate{.y = c.y,
                                          .x = c.x,
                                          .stat = c.stat,
                                          .pvalue = c.pair_pvalue,
                                          .adj_pvalue = c.adj_pvalue,
                                          .hedge_ratio = c.hedge_ratio,
                                          .intercept = c.intercept,
                                          .half_life = c.half_life,
                                          .usedlag = c.usedlag});
    }
    return out;
  }
  std::uint64_t screens() const override { return screens_; }

 private:
  const EngineConfig& config_;
  std::uint64_t screens_ = 0;
  int universe_;
  screen::Screener screener_;
  screen::Orchestrator orchestrator_;
  screen::ScreenResult result_;
  std::vector<screen::PairControl> controls_;
  std::vector<double> log_close_;
  bool ready_ = false;
  int tests_ = 0, passing_ = 0;
};

}  // namespace

std::unique_ptr<PairSelection> make_pair_selection(const EngineConfig& config, int universe) {
  if (config.discovery_method == DiscoveryMethod::kWarmup)
    return std::make_unique<WarmupSelection>(config);
  return std::make_unique<ScreenerSelection>(config, universe);
}

std::string screener_json(const PairSelection& selection, const SymbolTable& symbols, Timestamp ts,
                          std::size_t max_candidates) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("ts", ts).field("tests", selection.tests());
  w.field("passing", selection.passing()).field("screens", selection.screens());
  const auto candidates = selection.candidates();
  w.key("candidates").begin_array();
  for (std::size_t i = 0; i < candidates.size() && i < max_candidates; ++i) {
    const screen::PairCandidate& c = candidates[i];
    const std::string y(symbols.name(c.y)), x(symbols.name(c.x));
    w.begin_object().field("name", y + "~" + x).field("y", y).field("x", x);
    w.field("pvalue", c.pvalue).field("adj_pvalue", c.adj_pvalue);
    w.field("hedge_ratio", c.hedge_ratio).field("half_life", c.half_life).end_object();
  }
  w.end_array();
  if (candidates.size() > max_candidates) w.field("truncated", true);
  w.end_object();
  return out;
}

}  // namespace pairflow::engine
