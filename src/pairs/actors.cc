#include "pairs/actors.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "base/status.h"

namespace pairflow::pairs {

struct PairActors::Shard {
  std::mutex mu;
  std::vector<Message> inbox, draining;
  // Struct-of-arrays state, one entry per slot.
  std::vector<PairId> id;
  std::vector<SymbolId> y, x;
  std::vector<std::uint8_t> state, cooling;
  std::vector<std::int32_t> held, max_hold, head, filled, since;
  std::vector<double> entry, exit, stop;
  std::vector<double> ref_y, ref_x, sx, sy, sxx, sxy, syy;  // window sums, relative to ref_
  std::vector<double> hedge, intercept, sd, z;
  std::vector<stats::KalmanHedge> kalman;
  std::vector<std::uint8_t> kalman_started;  // calibrated from a full window
  std::vector<double> ring;  // slot * window * 2: (y, x) relative to ref_, interleaved
  std::vector<int> order;    // active slots, sorted by pair id
  std::vector<int> free;
  std::unordered_map<PairId, int> slot_of;  // control and queries only, never iterated
  std::vector<Signal> out;
};

std::size_t PairActors::state_bytes_per_pair(HedgeMethod hedge) {
  std::size_t bytes = sizeof(PairId) + 2 * sizeof(SymbolId) + 2 + 5 * sizeof(std::int32_t) +
                      18 * sizeof(double) + sizeof(int) /*order*/;
  if (hedge == HedgeMethod::kKalman) bytes += sizeof(stats::KalmanHedge);
  return bytes;
}

PairActors::PairActors(int num_symbols, const ActorsConfig& config)
    : config_(config), num_symbols_(num_symbols) {
  PAIRFLOW_CHECK(config.window >= 3, "pair actors: window must be at least 3");
  PAIRFLOW_CHECK(config.threads >= 1 && config.threads <= 256, "pair actors: threads in 1..256");
  for (int t = 0; t < config.threads; ++t) shards_.push_back(std::make_unique<Shard>());
  if (config.threads > 1) {
    start_ = std::make_unique<std::barrier<>>(config.threads);
    done_ = std::make_unique<std::barrier<>>(config.threads);
    for (int t = 1; t < config.threads; ++t) workers_.emplace_back([this, t] { worker(t); });
  }
}

PairActors::~PairActors() {
  if (!workers_.empty()) {
    stopping_ = true;
    start_->arrive_and_wait();
    for (auto& w : workers_) w.join();
  }
}

void PairActors::worker(int index) {
  for (;;) {
    start_->arrive_and_wait();
    if (stopping_) return;
    run_shard(*shards_[index]);
    done_->arrive_and_wait();
  }
}

void PairActors::post_activate(const PairSpec& spec, std::span<const double> log_y,
                               std::span<const double> log_x) {
  PAIRFLOW_CHECK(log_y.size() == log_x.size(), "seed series differ in length");
  PAIRFLOW_CHECK(spec.y < static_cast<SymbolId>(num_symbols_) &&
                     spec.x < static_cast<SymbolId>(num_symbols_) && spec.id != kNoPair,
                 "pair actors: bad activation");
  auto& shard = *shards_[spec.id % shards_.size()];
  std::lock_guard lock(shard.mu);
  shard.inbox.push_back(Message{
      Message::kActivate, spec, {log_y.begin(), log_y.end()}, {log_x.begin(), log_x.end()}});
}

void PairActors::post_deactivate(PairId id) {
  auto& shard = *shards_[id % shards_.size()];
  std::lock_guard lock(shard.mu);
  shard.inbox.push_back(Message{Message::kDeactivate, PairSpec{.id = id}, {}, {}});
}

void PairActors::post_force_flat(PairId id) {
  auto& shard = *shards_[id % shards_.size()];
  std::lock_guard lock(shard.mu);
  shard.inbox.push_back(Message{Message::kForceFlat, PairSpec{.id = id}, {}, {}});
}

void PairActors::post_thresholds(PairId id, double entry_z, double exit_z, double stop_z) {
  auto& shard = *shards_[id % shards_.size()];
  std::lock_guard lock(shard.mu);
  shard.inbox.push_back(
      Message{Message::kThresholds,
              PairSpec{.id = id, .entry_z = entry_z, .exit_z = exit_z, .stop_z = stop_z},
              {},
              {}});
}

namespace {

// Pushes one observation into slot k's window (O(1); re-sums every window pushes).
inline void push(PairActors* /*unused*/, auto& s, int k, int w, double ly, double lx) {
  double* ring = &s.ring[static_cast<std::size_t>(k) * w * 2];
  if (s.filled[k] == 0) {
    s.ref_y[k] = ly;
    s.ref_x[k] = lx;
  }
  const double ry = ly - s.ref_y[k], rx = lx - s.ref_x[k];
  double* slot = ring + 2 * s.head[k];
  if (s.filled[k] == w) {
    const double oy = slot[0], ox = slot[1];
    s.sy[k] -= oy;
    s.sx[k] -= ox;
    s.syy[k] -= oy * oy;
    s.sxx[k] -= ox * ox;
    s.sxy[k] -= ox * oy;
  } else {
    ++s.filled[k];
  }
  slot[0] = ry;
  slot[1] = rx;
  s.sy[k] += ry;
  s.sx[k] += rx;
  s.syy[k] += ry * ry;
  s.sxx[k] += rx * rx;
  s.sxy[k] += rx * ry;
  s.head[k] = s.head[k] + 1 == w ? 0 : s.head[k] + 1;
  if (++s.since[k] >= w) {
    // Re-base on the newest values and re-sum exactly: no drift, levels stay small.
    s.since[k] = 0;
    const double dy = ry, dx = rx;
    s.ref_y[k] += dy;
    s.ref_x[k] += dx;
    double a = 0, b = 0, aa = 0, bb = 0, ab = 0;
    for (int i = 0; i < s.filled[k]; ++i) {
      double& vy = ring[2 * i];
      double& vx = ring[2 * i + 1];
      vy -= dy;
      vx -= dx;
      a += vy;
      b += vx;
      aa += vy * vy;
      bb += vx * vx;
      ab += vx * vy;
    }
    s.sy[k] = a;
    s.sx[k] = b;
    s.syy[k] = aa;
    s.sxx[k] = bb;
    s.sxy[k] = ab;
  }
}

}  // namespace

int PairActors::new_slot(Shard& s) {
  const int w = config_.window;
  if (!s.free.empty()) {
    const int k = s.free.back();
    s.free.pop_back();
    return k;
  }
  const int k = static_cast<int>(s.id.size());
  for (auto* v : {&s.y, &s.x}) v->push_back(0);
  s.id.push_back(0);
  for (auto* v : {&s.state, &s.cooling}) v->push_back(0);
  for (auto* v : {&s.held, &s.max_hold, &s.head, &s.filled, &s.since}) v->push_back(0);
  for (auto* v : {&s.entry, &s.exit, &s.stop, &s.ref_y, &s.ref_x, &s.sx, &s.sy, &s.sxx, &s.sxy,
                  &s.syy, &s.hedge, &s.intercept, &s.sd, &s.z})
    v->push_back(0);
  if (config_.hedge == HedgeMethod::kKalman) {
    s.kalman.emplace_back(config_.kalman);
    s.kalman_started.push_back(0);
  }
  s.ring.resize(s.ring.size() + static_cast<std::size_t>(w) * 2);
  return k;
}

// Applies the mailbox's messages in posting order.
void PairActors::drain(Shard& s) {
  const int w = config_.window;
  const bool kalman = config_.hedge == HedgeMethod::kKalman;
  {
    std::lock_guard lock(s.mu);
    std::swap(s.inbox, s.draining);
  }
  for (auto& m : s.draining) {
    const PairId id = m.spec.id;
    auto it = s.slot_of.find(id);
    if (m.kind == Message::kActivate) {
      if (it != s.slot_of.end()) continue;  // already active
      const int k = new_slot(s);
      s.id[k] = id;
      s.y[k] = m.spec.y;
      s.x[k] = m.spec.x;
      s.state[k] = static_cast<std::uint8_t>(PairState::kFlat);
      s.cooling[k] = 0;
      s.held[k] = 0;
      s.max_hold[k] = m.spec.max_hold_bars;
      s.head[k] = s.filled[k] = s.since[k] = 0;
      s.entry[k] = m.spec.entry_z;
      s.exit[k] = m.spec.exit_z;
      s.stop[k] = m.spec.stop_z;
      s.sx[k] = s.sy[k] = s.sxx[k] = s.sxy[k] = s.syy[k] = 0;
      s.hedge[k] = s.intercept[k] = s.sd[k] = s.z[k] = kNaN;
      if (kalman) s.kalman_started[k] = 0;
      for (std::size_t i = 0; i < m.seed_y.size(); ++i) {
        const double ly = m.seed_y[i], lx = m.seed_x[i];
        if (!std::isfinite(ly) || !std::isfinite(lx)) continue;
        if (kalman && s.kalman_started[k]) {
          (void)s.kalman[k].update(lx, ly);
        } else if (kalman && s.filled[k] == w) {
          start_kalman(s, k);
          (void)s.kalman[k].update(lx, ly);
        }
        push(this, s, k, w, ly, lx);
      }
      s.slot_of[id] = k;
      auto pos = std::lower_bound(s.order.begin(), s.order.end(), id,
                                  [&](int slot, PairId v) { return s.id[slot] < v; });
      s.order.insert(pos, k);
    } else if (it != s.slot_of.end()) {
      const int k = it->second;
      if (m.kind == Message::kForceFlat) {
        s.state[k] = static_cast<std::uint8_t>(PairState::kFlat);
        s.held[k] = 0;
      } else if (m.kind == Message::kThresholds) {
        s.entry[k] = m.spec.entry_z;
        s.exit[k] = m.spec.exit_z;
        s.stop[k] = m.spec.stop_z;
      } else {
        s.order.erase(std::find(s.order.begin(), s.order.end(), k));
        s.free.push_back(k);
        s.slot_of.erase(it);
      }
    }
  }
  s.draining.clear();
}

// The Kalman filter of slot k starts from the OLS of its full window: state = the coefficients,
// covariance = their OLS covariance, observation noise = the residual variance (when the config
// leaves kalman.ve at 0).
void PairActors::start_kalman(Shard& s, int k) {
  const double n = config_.window;
  const double mx = s.sx[k] / n, my = s.sy[k] / n;
  const double cxx = s.sxx[k] - s.sx[k] * mx;
  const double cxy = s.sxy[k] - s.sx[k] * my;
  const double cyy = s.syy[k] - s.sy[k] * my;
  stats::KalmanHedgeOptions o = config_.kalman;
  if (cxx > 0) {
    const double b = cxy / cxx;
    const double resid_var = std::max(0.0, cyy - b * cxy) / (n - 2);
    const double abs_mx = mx + s.ref_x[k];
    o.initial_state = {b, my + s.ref_y[k] - b * abs_mx};
    const double var_b = resid_var / cxx;
    o.initial_cov = {var_b, -abs_mx * var_b, -abs_mx * var_b,
                     resid_var / n + abs_mx * abs_mx * var_b};
    // The coefficients drift by delta/(1-delta) of their own uncertainty per bar: a state noise
    // in the coefficients' units, whatever the price level.
    const double scale = o.delta / (1.0 - o.delta);
    for (int i = 0; i < 4; ++i) o.state_cov[i] = scale * o.initial_cov[i];
    if (!(o.ve > 0)) o.ve = std::max(resid_var, 1e-300);
  } else if (!(o.ve > 0)) {
    o.ve = 1e-300;  // a flat leg: the filter will refuse to score (q stays tiny), no trade
  }
  s.kalman[k] = stats::KalmanHedge(o);
  s.kalman_started[k] = 1;
}

void PairActors::update(Shard& s, int k, Timestamp ts, double ly, double lx) {
  const int w = config_.window;
  const bool finite = std::isfinite(ly) && std::isfinite(lx);
  bool ready = false;
  double z = kNaN;
  if (config_.hedge == HedgeMethod::kKalman) {
    if (!s.kalman_started[k] && s.filled[k] == w) start_kalman(s, k);
    if (finite && s.kalman_started[k]) {
      auto step = s.kalman[k].update(lx, ly);
      if (step.is_ok()) {
        ready = step->q > 0;
        z = step->e / std::sqrt(step->q);
        s.hedge[k] = step->slope;
        s.intercept[k] = step->intercept;
      }
    }
    if (finite) push(this, s, k, w, ly, lx);
  } else {
    if (s.filled[k] == w) {
      const double n = w;
      const double mx = s.sx[k] / n, my = s.sy[k] / n;
      const double cxx = s.sxx[k] - s.sx[k] * mx;
      const double cxy = s.sxy[k] - s.sx[k] * my;
      const double cyy = s.syy[k] - s.sy[k] * my;
      if (cxx > 0) {
        const double b = cxy / cxx, a = my - b * mx;
        const double sd = std::sqrt(std::max(0.0, cyy - b * cxy) / (n - 2));
        if (sd > 0 && std::isfinite(sd)) {
          ready = true;
          s.hedge[k] = b;
          s.intercept[k] = my + s.ref_y[k] - b * (mx + s.ref_x[k]);
          s.sd[k] = sd;
          z = ((ly - s.ref_y[k]) - a - b * (lx - s.ref_x[k])) / sd;
        }
      }
    }
    if (finite) push(this, s, k, w, ly, lx);
  }
  if (!ready) {
    s.z[k] = kNaN;
    return;
  }
  s.z[k] = z;
  SpreadPosition position{static_cast<PairState>(s.state[k]), s.cooling[k] != 0, s.held[k]};
  const SignalAction action =
      advance(position, z, SpreadThresholds{s.entry[k], s.exit[k], s.stop[k], s.max_hold[k]});
  s.state[k] = static_cast<std::uint8_t>(position.state);
  s.cooling[k] = position.cooling_down ? 1 : 0;
  s.held[k] = position.held_bars;
  if (action != SignalAction::kHold)
    s.out.push_back(
        Signal{.ts = ts, .pair = s.id[k], .z = z, .hedge_ratio = s.hedge[k], .action = action});
}

void PairActors::run_shard(Shard& s) {
  drain(s);
  s.out.clear();
  const double* bar = bar_;
  for (int k : s.order) update(s, k, ts_, bar[s.y[k]], bar[s.x[k]]);
}

std::optional<Signal> PairActors::step_pair(PairId id, Timestamp ts, double log_y, double log_x) {
  Shard& s = *shards_[id % shards_.size()];
  drain(s);
  auto it = s.slot_of.find(id);
  if (it == s.slot_of.end()) return std::nullopt;
  const int k = it->second;
  s.out.clear();
  update(s, k, ts, log_y, log_x);
  if (!s.out.empty()) return s.out.back();
  return Signal{
      .ts = ts, .pair = id, .z = s.z[k], .hedge_ratio = s.hedge[k], .action = SignalAction::kHold};
}

std::optional<PairActors::ActorState> PairActors::save(PairId id) {
  Shard& s = *shards_[id % shards_.size()];
  drain(s);
  auto it = s.slot_of.find(id);
  if (it == s.slot_of.end()) return std::nullopt;
  const int k = it->second;
  const std::size_t w2 = static_cast<std::size_t>(config_.window) * 2;
  ActorState a;
  a.spec = PairSpec{.id = id,
                    .y = s.y[k],
                    .x = s.x[k],
                    .entry_z = s.entry[k],
                    .exit_z = s.exit[k],
                    .stop_z = s.stop[k],
                    .max_hold_bars = s.max_hold[k]};
  a.state = s.state[k];
  a.cooling = s.cooling[k];
  a.held = s.held[k];
  a.head = s.head[k];
  a.filled = s.filled[k];
  a.since = s.since[k];
  a.ref_y = s.ref_y[k];
  a.ref_x = s.ref_x[k];
  a.sx = s.sx[k];
  a.sy = s.sy[k];
  a.sxx = s.sxx[k];
  a.sxy = s.sxy[k];
  a.syy = s.syy[k];
  a.hedge = s.hedge[k];
  a.intercept = s.intercept[k];
  a.sd = s.sd[k];
  a.z = s.z[k];
  a.ring.assign(s.ring.begin() + static_cast<std::ptrdiff_t>(k * w2),
                s.ring.begin() + static_cast<std::ptrdiff_t>((k + 1) * w2));
  if (config_.hedge == HedgeMethod::kKalman) {
    a.kalman_started = s.kalman_started[k] != 0;
    a.kalman = s.kalman[k].state();
  }
  return a;
}

bool PairActors::restore(const ActorState& a) {
  const std::size_t w2 = static_cast<std::size_t>(config_.window) * 2;
  if (a.ring.size() != w2 || a.spec.id == kNoPair || a.filled < 0 || a.filled > config_.window ||
      a.head < 0 || a.head >= config_.window || a.spec.y >= static_cast<SymbolId>(num_symbols_) ||
      a.spec.x >= static_cast<SymbolId>(num_symbols_)) {
    return false;
  }
  post_deactivate(a.spec.id);
  post_activate(a.spec);
  Shard& s = *shards_[a.spec.id % shards_.size()];
  drain(s);
  const int k = s.slot_of.at(a.spec.id);
  s.state[k] = a.state;
  s.cooling[k] = a.cooling;
  s.held[k] = a.held;
  s.head[k] = a.head;
  s.filled[k] = a.filled;
  s.since[k] = a.since;
  s.ref_y[k] = a.ref_y;
  s.ref_x[k] = a.ref_x;
  s.sx[k] = a.sx;
  s.sy[k] = a.sy;
  s.sxx[k] = a.sxx;
  s.sxy[k] = a.sxy;
  s.syy[k] = a.syy;
  s.hedge[k] = a.hedge;
  s.intercept[k] = a.intercept;
  s.sd[k] = a.sd;
  s.z[k] = a.z;
  std::copy(a.ring.begin(), a.ring.end(), s.ring.begin() + static_cast<std::ptrdiff_t>(k * w2));
  if (config_.hedge == HedgeMethod::kKalman) {
    s.kalman_started[k] = a.kalman_started ? 1 : 0;
    if (a.kalman_started) s.kalman[k].set_state(a.kalman);
  }
  return true;
}

std::vector<PairId> PairActors::active_ids() const {
  std::vector<PairId> ids;
  for (const auto& s : shards_)
    for (int k : s->order) ids.push_back(s->id[k]);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::span<const Signal> PairActors::step(Timestamp ts, std::span<const double> log_close) {
  PAIRFLOW_CHECK(static_cast<int>(log_close.size()) == num_symbols_, "pair actors: bar width");
  ts_ = ts;
  bar_ = log_close.data();
  if (!workers_.empty()) {
    start_->arrive_and_wait();
    run_shard(*shards_[0]);
    done_->arrive_and_wait();
  } else {
    run_shard(*shards_[0]);
  }
  merged_.clear();
  for (const auto& s : shards_) merged_.insert(merged_.end(), s->out.begin(), s->out.end());
  if (shards_.size() > 1)
    std::sort(merged_.begin(), merged_.end(),
              [](const Signal& a, const Signal& b) { return a.pair < b.pair; });
  return merged_;
}

bool PairActors::active(PairId id) const {
  const auto& s = *shards_[id % shards_.size()];
  return s.slot_of.count(id) > 0;
}

PairState PairActors::state(PairId id) const {
  const auto& s = *shards_[id % shards_.size()];
  auto it = s.slot_of.find(id);
  return it == s.slot_of.end() ? PairState::kFlat : static_cast<PairState>(s.state[it->second]);
}

double PairActors::z(PairId id) const {
  const auto& s = *shards_[id % shards_.size()];
  auto it = s.slot_of.find(id);
  return it == s.slot_of.end() ? kNaN : s.z[it->second];
}

double PairActors::hedge_ratio(PairId id) const {
  const auto& s = *shards_[id % shards_.size()];
  auto it = s.slot_of.find(id);
  return it == s.slot_of.end() ? kNaN : s.hedge[it->second];
}

SpreadThresholds PairActors::thresholds(PairId id) const {
  const auto& s = *shards_[id % shards_.size()];
  auto it = s.slot_of.find(id);
  if (it == s.slot_of.end()) return {};
  const int k = it->second;
  return SpreadThresholds{.entry_z = s.entry[k],
                          .exit_z = s.exit[k],
                          .stop_z = s.stop[k],
                          .max_hold_bars = s.max_hold[k]};
}

int PairActors::active_count() const {
  int n = 0;
  for (const auto& s : shards_) n += static_cast<int>(s->order.size());
  return n;
}

}  // namespace pairflow::pairs
