// The report of a run: what a backtest or a recorded live run did, as metrics a quant checks and
// one self-contained HTML file (no network needed to open it) with the pictures.
//
// Input is a run directory as `--log-dir` writes it: pnl.jsonl (required: the equity after every
// slice), executions.jsonl (fills; optional) and summary.json (optional: the cost of realism).
// Metrics use daily returns (the last equity of each UTC day against the one before; the first
// day against the starting capital), 252 days a year:
//   total return, annualised return (1 + total)^(252 / days) - 1, annualised volatility
//   (sample std of daily returns * sqrt 252), Sharpe (mean / sample std of daily excess returns
//   * sqrt 252, the daily risk-free rate (1 + rf)^(1/252) - 1), Sortino (mean excess / sqrt of
//   the mean squared negative excess * sqrt 252), maximum drawdown of the equity after every
//   slice (from the running peak, the capital first) and its longest duration (peak to
//   recovery, or to the end), Calmar (annualised return / |max drawdown|), round trips per pair
//   (a pair's legs from flat to flat): count, win rate, profit factor (gross wins / gross losses),
//   turnover (traded notional / capital), exposure (share of slices with a position open), fees.
// The same input gives the same bytes. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace pairflow::report {

struct EquityPoint {
  Timestamp ts = 0;
  double equity = 0, net_pnl = 0, fees = 0;
};

struct Fill {
  Timestamp ts = 0;
  std::string symbol;
  double qty = 0;  // signed: + bought, - sold
  double price = 0, fee = 0;
  std::int64_t pair = -1;  // -1: not attributed to a pair
};

struct RunData {
  std::vector<EquityPoint> equity;                    // in time order
  std::vector<Fill> fills;                            // in time order
  double capital = 0;                                 // equity before the first slice
  std::optional<double> ideal_net_pnl, realism_cost;  // from summary.json
};

// Reads DIR/pnl.jsonl, DIR/executions.jsonl and DIR/summary.json. Throws UserError naming the
// file and line of anything malformed.
RunData read_run(const std::string& dir);

// A pair's position from flat to flat.
struct RoundTrip {
  std::int64_t pair = -1;
  std::string legs;  // "Y/X" as first traded
  Timestamp open = 0, close = 0;
  double pnl = 0;  // cash flows of its fills, fees included
  double fees = 0;
};

struct Metrics {
  int days = 0;
  double total_return = 0, annual_return = 0, annual_volatility = 0;
  double sharpe = 0, sortino = 0, calmar = 0;  // NaN when undefined
  double max_drawdown = 0;                     // a fraction <= 0
  double max_drawdown_days = 0;                // longest peak-to-recovery span, in days
  int trades = 0;                              // closed round trips
  double win_rate = 0, profit_factor = 0, average_trade = 0;
  double turnover = 0, exposure = 0, fees = 0, net_pnl = 0;
  std::vector<std::pair<std::string, double>> daily_returns;  // ("YYYY-MM-DD", return)
};

struct ReportOptions {
  double risk_free = 0.0;    // annual
  int rolling_window = 390;  // slices in the rolling Sharpe chart
  std::string title = "pairflow run";
};

std::vector<RoundTrip> round_trips(const RunData& run);
Metrics compute_metrics(const RunData& run, const std::vector<RoundTrip>& trips,
                        const ReportOptions& options);
// The metrics as one JSON object (the figures of the HTML, for scripts and tests).
std::string metrics_json(const Metrics& metrics);
// The whole report: one HTML document with inline SVG charts and tables, no external resources.
std::string render_html(const RunData& run, const std::vector<RoundTrip>& trips,
                        const Metrics& metrics, const ReportOptions& options);

}  // namespace pairflow::report
