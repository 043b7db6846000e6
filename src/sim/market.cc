#include "sim/market.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace pairflow::sim {

MarketGenerator::MarketGenerator(const MarketSpec& spec)
    : spec_(spec), rng_(spec.seed), tick_rng_(spec.seed ^ 0x5eed7ac4ULL) {
  if (spec.symbols < 2)
    throw UserError(fmt::format("gen: need at least 2 symbols, got {}", spec.symbols));
  if (spec.sectors < 1) throw UserError("gen: need at least 1 sector");
  if (spec.planted_pairs < 0 || 2 * spec.planted_pairs > spec.symbols)
    throw UserError(fmt::format("gen: {} planted pairs need {} symbols, have {}",
                                spec.planted_pairs, 2 * spec.planted_pairs, spec.symbols));
  if (spec.sessions < 1) throw UserError("gen: need at least 1 session");
  if (spec.session_length < kNanosPerSecond) throw UserError("gen: session shorter than 1s");
  if (!(spec.mean_tick_interval_s > 0)) throw UserError("gen: mean tick interval must be > 0");
  if (!(spec.min_half_life_s > 0) || spec.max_half_life_s < spec.min_half_life_s)
    throw UserError("gen: half-life range must be positive and ordered");
  if (!(spec.spread_std > 0) || !(spec.bid_ask_bps >= 0))
    throw UserError("gen: spread_std must be > 0");
  if (spec.symbols > 100'000) throw UserError("gen: at most 100000 symbols");
  if (spec.sessions > 10'000) throw UserError("gen: at most 10000 sessions");
  if (spec.session_length > kNanosPerDay)
    throw UserError(
        "gen: session_length must be at most 1 day (sessions start on consecutive days)");
  if (spec.start < kMinTimestamp || spec.start + spec.sessions * kNanosPerDay >= kMaxTimestamp)
    throw UserError("gen: the sessions must lie within the years 1900-2199");
  for (double vol : {spec.market_daily_vol, spec.sector_daily_vol, spec.idio_daily_vol}) {
    if (!(vol >= 0 && vol <= 1)) throw UserError("gen: daily volatilities must be in [0, 1]");
  }
  if (!(spec.spread_std <= 1)) throw UserError("gen: spread_std must be in (0, 1]");
  if (!(spec.bid_ask_bps <= 1000)) throw UserError("gen: bid_ask_bps must be in [0, 1000]");
  if (!(spec.mean_tick_interval_s >= 1e-3 && spec.mean_tick_interval_s <= 86400))
    throw UserError("gen: mean_tick_interval_s must be in [0.001, 86400]");
  if (!(spec.max_half_life_s <= 1e9)) throw UserError("gen: half-life range must be finite");
  if (!(spec.inverse_fraction >= 0 && spec.inverse_fraction <= 1))
    throw UserError("gen: inverse_fraction must be in [0, 1]");

  const int n = spec.symbols;
  int width = std::max(3, static_cast<int>(std::to_string(n - 1).size()));
  for (int i = 0; i < n; ++i) symbols_.intern(fmt::format("S{:0{}d}", i, width));

  sector_.resize(n);
  beta_.resize(n);
  gamma_.resize(n);
  mu_.resize(n);
  idio_.assign(n, 0.0);
  log_mid_.resize(n);
  for (int i = 0; i < n; ++i) {
    sector_[i] = i % spec.sectors;
    beta_[i] = rng_.uniform(0.7, 1.3);
    gamma_[i] = rng_.uniform(0.7, 1.3);
    mu_[i] = std::log(rng_.uniform(20.0, 200.0));
  }
  sector_level_.assign(spec.sectors, 0.0);

  // Planted pairs on a seeded permutation of the symbols; legs never overlap.
  std::vector<SymbolId> order(n);
  std::iota(order.begin(), order.end(), 0);
  for (int i = n - 1; i > 0; --i) {
    int j = static_cast<int>(rng_.next_u64() % static_cast<std::uint64_t>(i + 1));
    std::swap(order[i], order[j]);
  }
  int inverse = static_cast<int>(std::lround(spec.inverse_fraction * spec.planted_pairs));
  for (int k = 0; k < spec.planted_pairs; ++k) {
    Leg leg;
    leg.y = order[2 * k];
    leg.x = order[2 * k + 1];
    double magnitude = rng_.uniform(0.6, 1.4);
    leg.h = k < inverse ? -magnitude : magnitude;
    leg.a = mu_[leg.y] - leg.h * mu_[leg.x];
    double half_life = rng_.uniform(spec.min_half_life_s, spec.max_half_life_s);
    leg.phi = std::exp(-std::log(2.0) / half_life);
    leg.innovation = spec.spread_std * std::sqrt(1 - leg.phi * leg.phi);
    leg.spread = spec.spread_std * rng_.normal();
    legs_.push_back(leg);
    planted_.push_back(PlantedPair{symbols_.name(leg.y), symbols_.name(leg.x), leg.h, leg.a,
                                   half_life, spec.spread_std});
  }

  double session_seconds = static_cast<double>(spec.session_length) / kNanosPerSecond;
  per_second_market_ = spec.market_daily_vol / std::sqrt(session_seconds);
  per_second_sector_ = spec.sector_daily_vol / std::sqrt(session_seconds);
  per_second_idio_ = spec.idio_daily_vol / std::sqrt(session_seconds);
  total_seconds_ = spec.sessions * (spec.session_length / kNanosPerSecond);

  const double mean_ns = spec.mean_tick_interval_s * kNanosPerSecond;
  for (int i = 0; i < n; ++i) {
    arrivals_.push(Arrival{static_cast<std::int64_t>(tick_rng_.exponential(mean_ns)),
                           static_cast<SymbolId>(i)});
  }
  advance_to_second(0);
}

void MarketGenerator::step() {
  ++second_;
  const int n = spec_.symbols;
  if (second_ > 0) {
    market_ += per_second_market_ * rng_.normal();
    for (double& s : sector_level_) s += per_second_sector_ * rng_.normal();
    for (int i = 0; i < n; ++i) idio_[i] += per_second_idio_ * rng_.normal();
  }
  for (int i = 0; i < n; ++i) {
    log_mid_[i] = mu_[i] + beta_[i] * market_ + gamma_[i] * sector_level_[sector_[i]] + idio_[i];
  }
  for (Leg& leg : legs_) {
    if (second_ > 0) leg.spread = leg.phi * leg.spread + leg.innovation * rng_.normal();
    log_mid_[leg.y] = leg.a + leg.h * log_mid_[leg.x] + leg.spread;
  }
}

void MarketGenerator::advance_to_second(std::int64_t second) {
  while (second_ < second) step();
}

Timestamp MarketGenerator::time_of_second(std::int64_t session_second) const {
  const std::int64_t per_session = spec_.session_length / kNanosPerSecond;
  std::int64_t session = session_second / per_session;
  return spec_.start + session * kNanosPerDay + (session_second % per_session) * kNanosPerSecond;
}

bool MarketGenerator::next(Tick& tick) {
  if (arrivals_.empty()) return false;
  Arrival arrival = arrivals_.top();
  const std::int64_t end_ns = total_seconds_ * kNanosPerSecond;
  if (arrival.session_ns >= end_ns) {
    while (!arrivals_.empty()) arrivals_.pop();
    return false;
  }
  arrivals_.pop();
  advance_to_second(arrival.session_ns / kNanosPerSecond);

  const double mid = std::exp(log_mid_[arrival.symbol]);
  const double half = mid * spec_.bid_ask_bps / 2e4;
  double bid = std::floor((mid - half) * 100) / 100;
  double ask = std::ceil((mid + half) * 100) / 100;
  if (ask <= bid) ask = bid + 0.01;
  bid = std::max(bid, 0.01);

  const std::int64_t session_ns_per = spec_.session_length;
  const std::int64_t session = arrival.session_ns / session_ns_per;
  tick.ts = spec_.start + session * kNanosPerDay + arrival.session_ns % session_ns_per;
  tick.symbol = arrival.symbol;
  tick.bid = bid;
  tick.ask = ask;
  tick.price = tick_rng_.uniform() < 0.5 ? bid : ask;
  tick.size = 100 * (1 + std::floor(tick_rng_.exponential(2.0)));

  const double mean_ns = spec_.mean_tick_interval_s * kNanosPerSecond;
  std::int64_t gap = std::max<std::int64_t>(1000, std::llround(tick_rng_.exponential(mean_ns)));
  arrivals_.push(Arrival{arrival.session_ns + gap, arrival.symbol});
  return true;
}

}  // namespace pairflow::sim
