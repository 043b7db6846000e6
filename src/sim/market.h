// Synthetic market: a seeded factor model with planted cointegrated pairs, as a tick source.
//
// Log mid prices follow  log p_i = mu_i + b_i * M + g_i * S_sector(i) + e_i  where the market
// factor M, the sector factors S and the idiosyncratic e_i are random walks, so symbols of one
// sector are strongly correlated without being cointegrated (the decoys). A planted pair (y, x)
// replaces y by log y = a + h * log x + s with s an Ornstein-Uhlenbeck spread of known half-life
// and stationary std; h < 0 makes an inverse pair. Latent prices move once per second of session
// time; ticks arrive per symbol as a Poisson process, trade at the bid or the ask (a bid/ask spread
// in basis points, prices on a cent grid) with a random lot size. Sessions are `session_length`
// long and start on consecutive days at `start`'s time of day; nothing moves between sessions.
//
// Lifecycle: construct from a MarketSpec, then pull ticks with next() until it returns false.
// Single-threaded. Same spec, same ticks, on any machine with IEEE doubles.
#pragma once

#include <cstdint>
#include <queue>
#include <string>
#include <vector>

#include "base/random.h"
#include "base/symbols.h"
#include "base/time.h"
#include "model/messages.h"

namespace pairflow::sim {

struct MarketSpec {
  std::uint64_t seed = 42;
  int symbols = 50;
  int sectors = 5;
  int planted_pairs = 5;
  double inverse_fraction = 0.4;  // share of planted pairs with a negative hedge ratio
  int sessions = 3;
  Timestamp start = 1704205800LL * kNanosPerSecond;  // 2024-01-02T14:30:00Z
  Timestamp session_length = 390 * kNanosPerMinute;
  double mean_tick_interval_s = 4.0;  // per symbol
  double market_daily_vol = 0.010;
  double sector_daily_vol = 0.008;
  double idio_daily_vol = 0.012;
  double min_half_life_s = 90;  // planted spreads' half-life range
  double max_half_life_s = 300;
  double spread_std = 0.004;  // stationary std of a planted log spread
  double bid_ask_bps = 2.0;   // quoted spread, in basis points of the mid
};

struct PlantedPair {
  std::string y, x;
  double hedge_ratio;  // log y = intercept + hedge_ratio * log x + spread
  double intercept;
  double half_life_s;
  double spread_std;
};

class MarketGenerator {
 public:
  // Throws UserError on an impossible spec (e.g. more planted pairs than symbols allow).
  explicit MarketGenerator(const MarketSpec& spec);

  bool next(Tick& tick);

  const SymbolTable& symbols() const { return symbols_; }
  SymbolTable& symbols() { return symbols_; }
  const std::vector<PlantedPair>& planted() const { return planted_; }
  const MarketSpec& spec() const { return spec_; }
  // Latent log mid of each symbol at the current second (for wide bar output).
  const std::vector<double>& log_mids() const { return log_mid_; }
  // Advances latent prices to `second` of session time (0-based, across sessions).
  void advance_to_second(std::int64_t second);
  Timestamp time_of_second(std::int64_t session_second) const;
  std::int64_t total_seconds() const { return total_seconds_; }

 private:
  void step();
  struct Arrival {
    std::int64_t session_ns;  // ns of session time since the first open
    SymbolId symbol;
    bool operator>(const Arrival& o) const {
      return session_ns != o.session_ns ? session_ns > o.session_ns : symbol > o.symbol;
    }
  };

  MarketSpec spec_;
  SymbolTable symbols_;
  std::vector<PlantedPair> planted_;
  Rng rng_;
  Rng tick_rng_;  // arrivals and trade sides: separate so latent prices do not depend on them
  // Per-symbol factor model.
  std::vector<int> sector_;
  std::vector<double> beta_, gamma_, mu_, idio_;
  std::vector<double> log_mid_;
  // Planted pairs: y symbol -> (x symbol, h, a, phi, innovation std, spread state).
  struct Leg {
    SymbolId y, x;
    double h, a, phi, innovation, spread;
  };
  std::vector<Leg> legs_;
  double market_ = 0;
  std::vector<double> sector_level_;
  double per_second_market_, per_second_sector_, per_second_idio_;
  std::int64_t second_ = -1;
  std::int64_t total_seconds_;
  std::priority_queue<Arrival, std::vector<Arrival>, std::greater<>> arrivals_;
};

}  // namespace pairflow::sim
