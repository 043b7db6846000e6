// OhlcvColumns: the struct-of-arrays OHLCV accumulators shared by the bar aggregators.
//
// One row per bar under construction (a symbol, or a symbol and an interval slot). Open and close
// follow event time, not arrival order, so ticks out of order within the allowed lateness give
// the bar they would have given in order. No allocation per tick once sized. Single-threaded:
// owned by its aggregator.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "model/messages.h"

namespace pairflow::features {

struct OhlcvColumns {
  std::vector<double> open, high, low, close, volume, notional;
  std::vector<Timestamp> open_ts, close_ts;
  std::vector<std::uint32_t> count;

  std::size_t size() const { return count.size(); }

  void resize(std::size_t n) {
    open.resize(n);
    high.resize(n);
    low.resize(n);
    close.resize(n);
    volume.resize(n);
    notional.resize(n);
    open_ts.resize(n);
    close_ts.resize(n);
    count.resize(n, 0);
  }

  // Adds a tick to row i; true when it is the row's first tick.
  bool add(std::size_t i, const Tick& tick) {
    const bool first = count[i] == 0;
    if (first) {
      open[i] = high[i] = low[i] = close[i] = tick.price;
      open_ts[i] = close_ts[i] = tick.ts;
      volume[i] = notional[i] = 0;
    } else {
      high[i] = std::max(high[i], tick.price);
      low[i] = std::min(low[i], tick.price);
      if (tick.ts < open_ts[i]) {
        open_ts[i] = tick.ts;
        open[i] = tick.price;
      }
      if (tick.ts >= close_ts[i]) {
        close_ts[i] = tick.ts;
        close[i] = tick.price;
      }
    }
    volume[i] += tick.size;
    notional[i] += tick.size * tick.price;
    ++count[i];
    return first;
  }

  // Row i as a bar labelled `ts`; the row is emptied.
  Bar take(std::size_t i, Timestamp ts, SymbolId symbol) {
    Bar bar;
    bar.ts = ts;
    bar.symbol = symbol;
    bar.open = open[i];
    bar.high = high[i];
    bar.low = low[i];
    bar.close = close[i];
    bar.volume = volume[i];
    // A bar of zero-size ticks has no volume weighting: fall back to the close.
    bar.vwap = volume[i] > 0 ? notional[i] / volume[i] : close[i];
    bar.count = count[i];
    count[i] = 0;
    return bar;
  }
};

}  // namespace pairflow::features
