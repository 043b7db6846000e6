// Writing a generated market to files (`pairflow gen`): ticks as CSV
// (ts,symbol,price,size,bid,ask), or a wide CSV of mid prices sampled per interval
// (ts,SYM1,SYM2,...), and the ground truth of the planted pairs as JSON. Runs on the calling
// thread; throws UserError on write failures.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>

#include "sim/market.h"

namespace pairflow::sim {

// Every tick of `market` (which is consumed); returns the rows written.
std::size_t write_ticks_csv(MarketGenerator& market, const std::string& path);
// The latent mid prices of every symbol at the end of each `interval` (whole seconds, at most a
// session) of every session: on_row(start of the interval, mids). Throws UserError on a bad
// interval. The wide bar CSV and pairflow.gen.bars (Python) are made from these rows.
void sample_mids(MarketGenerator& market, Timestamp interval,
                 const std::function<void(Timestamp ts, std::span<const double> mids)>& on_row);
// Mid prices at the end of each `interval` (whole seconds, at most a session) of every session.
std::size_t write_bars_csv(MarketGenerator& market, Timestamp interval, const std::string& path);
// {"seed","symbols","sectors","planted":[{"y","x","hedge_ratio","intercept","half_life_s",
// "spread_std"}]}
std::string truth_json(const MarketGenerator& market);

}  // namespace pairflow::sim
