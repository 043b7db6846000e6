// Summary of a run: what `pairflow demo` and `pairflow backtest` print and write with --summary.
//
// JSON keys (stable, documented in docs/summary.md): trades, gross_pnl, net_pnl, fees, sharpe,
// max_drawdown, pairs[{y, x, hedge_ratio, trades, net_pnl, ...}] plus run counters and rejects.
// Plain data; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pairflow::engine {

struct PairSummary {
  std::string y, x;
  double hedge_ratio = 0;  // from discovery (log prices)
  double intercept = 0;
  double pvalue = 1, adj_pvalue = 1, half_life = 0;
  int trades = 0;
  double net_pnl = 0;
};

struct Summary {
  // Which stages this summary covers: the whole engine (demo, backtest), the trader's decisions
  // alone (its intents go to an `execution` job), or the execution job alone (orders, fills, P&L).
  enum class Part : std::uint8_t { kAll, kDecisions, kExecution } part = Part::kAll;
  std::uint64_t ticks = 0, rejected_ticks = 0, bars = 0, slices = 0;
  int symbols = 0;
  int trades = 0;  // pair entries
  std::uint64_t orders = 0, fills = 0, rejected_orders = 0;
  std::uint64_t intents = 0, intents_failed = 0, unwinds = 0, chases = 0;  // spread intents
  std::map<std::string, std::uint64_t> denials;  // pre-trade risk reason -> count
  std::map<std::string, double> positions;       // open at the end: symbol -> signed shares
  std::string kill_switch = "none", trading_state = "active";  // at the end of the run
  double unhedged_notional = 0;                                // at the end of the run
  double realism_cost = 0;   // fills against the touch when decided (slippage, latency, depth)
  double ideal_net_pnl = 0;  // net P&L with every order filled whole at the touch when decided
  std::uint64_t refused_signals = 0;  // entries the portfolio could not size (first reason kept)
  std::string first_refused_signal;
  int warmup_bars = 0;
  bool warmup_complete = false;  // false: input ended before discovery could run
  double initial_capital = 0;
  double gross_pnl = 0, net_pnl = 0, fees = 0;
  double sharpe = 0;        // annualised, from per-bar equity changes over the trading period
  double max_drawdown = 0;  // largest peak-to-trough fall of equity, in currency (>= 0)
  double max_drawdown_pct = 0;
  int discovery_tests = 0, discovery_passing = 0;
  std::vector<PairSummary> pairs;
  std::map<std::string, std::uint64_t> rejects;     // reason -> count
  std::map<std::string, std::string> first_reject;  // reason -> first example

  std::string to_json() const;
  std::string to_table() const;
};

}  // namespace pairflow::engine
