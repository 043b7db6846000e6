#include "screen/orchestrator.h"

#include <fmt/format.h>

#include "model/json.h"

namespace pairflow::screen {

const char* to_string(ControlAction action) {
  return action == ControlAction::kActivate ? "activate" : "deactivate";
}

std::string to_json(const PairControl& c, const SymbolTable& symbols) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("ts", c.ts).field("pair", c.pair).field("action", to_string(c.action));
  w.field("y", symbols.name(c.y)).field("x", symbols.name(c.x));
  w.field("hedge_ratio", c.hedge_ratio).field("intercept", c.intercept);
  w.field("half_life", c.half_life).field("pvalue", c.pvalue).field("entry_z", c.entry_z);
  w.field("exit_z", c.exit_z).field("stop_z", c.stop_z).field("max_hold_bars", c.max_hold_bars);
  w.end_object();
  return out;
}

Status Orchestrator::validate(const OrchestratorConfig& c) {
  auto bad = [](const char* m) { return Status(StatusCode::kInvalidArgument, m); };
  if (c.activate_after < 1 || c.deactivate_after < 1)
    return bad("activate_after and deactivate_after must be >= 1");
  if (c.max_active < 0) return bad("max_active must be >= 0");
  if (c.max_pairs_per_symbol < 0) return bad("max_pairs_per_symbol must be >= 0");
  if (!(c.exit_z >= 0 && c.entry_z > c.exit_z && c.stop_z > c.entry_z))
    return bad("thresholds must satisfy 0 <= exit_z < entry_z < stop_z");
  if (c.max_hold_bars < 0) return bad("max_hold_bars must be >= 0");
  return Status();
}

Orchestrator::Orchestrator(const OrchestratorConfig& config) : config_(config) {
  auto status = validate(config);
  PAIRFLOW_CHECK(status.is_ok(), status.message());
}

void Orchestrator::on_screen(Timestamp ts, const ScreenResult& result,
                             const std::function<bool(PairId)>& is_flat,
                             std::vector<PairControl>& out) {
  for (auto& [key, t] : tracks_) t.passed_now = false;
  for (const auto& c : result.candidates) {
    Key key{std::min(c.y, c.x), std::max(c.y, c.x)};
    auto& t = tracks_[key];
    if (t.passed_now) continue;  // one entry per pair and screen
    t.passed_now = true;
    ++t.pass_streak;
    t.fail_streak = 0;
    t.last = c;
  }
  for (auto it = tracks_.begin(); it != tracks_.end();) {
    auto& t = it->second;
    if (!t.passed_now) {
      t.pass_streak = 0;
      ++t.fail_streak;
      if (!t.active) {
        it = tracks_.erase(it);
        continue;
      }
    }
    ++it;
  }
  // Deactivations, by pair id.
  for (auto it = active_.begin(); it != active_.end();) {
    auto& t = tracks_.at(it->second);
    if (t.fail_streak >= config_.deactivate_after && is_flat(it->first)) {
      PairControl d = t.activation;
      d.ts = ts;
      d.action = ControlAction::kDeactivate;
      out.push_back(d);
      --symbol_use_[d.y];
      --symbol_use_[d.x];
      --active_count_;
      const Key key = it->second;
      it = active_.erase(it);
      if (!t.passed_now) {
        tracks_.erase(key);
      } else {
        t.active = false;
        t.id = kNoPair;
      }
      continue;
    }
    ++it;
  }
  // Activations, in rank order.
  for (const auto& c : result.candidates) {
    if (active_count_ >= config_.max_active) break;
    Key key{std::min(c.y, c.x), std::max(c.y, c.x)};
    auto& t = tracks_.at(key);
    if (t.active || t.pass_streak < config_.activate_after) continue;
    if (config_.max_pairs_per_symbol > 0 && (symbol_use_[c.y] >= config_.max_pairs_per_symbol ||
                                             symbol_use_[c.x] >= config_.max_pairs_per_symbol))
      continue;
    const auto& s = t.last;
    PairControl a;
    a.ts = ts;
    a.pair = next_id_++;
    a.action = ControlAction::kActivate;
    a.y = s.y;
    a.x = s.x;
    a.hedge_ratio = s.hedge_ratio;
    a.intercept = s.intercept;
    a.half_life = s.half_life;
    a.pvalue = s.adj_pvalue;
    a.entry_z = config_.entry_z;
    a.exit_z = config_.exit_z;
    a.stop_z = config_.stop_z;
    a.max_hold_bars = config_.max_hold_bars;
    t.active = true;
    t.id = a.pair;
    t.activation = a;
    active_[a.pair] = key;
    ++symbol_use_[a.y];
    ++symbol_use_[a.x];
    ++active_count_;
    out.push_back(a);
  }
}

std::vector<PairControl> Orchestrator::active() const {
  std::vector<PairControl> out;
  for (const auto& [id, key] : active_) out.push_back(tracks_.at(key).activation);
  return out;
}

}  // namespace pairflow::screen
