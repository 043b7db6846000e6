// TimeBarAggregator: ticks of many symbols -> OHLCV/VWAP time bars, closed by event time.
//
// Bars cover epoch-aligned [start, start + interval) and are labelled by start. A bar is emitted
// when event time (the latest tick time seen) reaches its end; all bars of one interval are emitted
// together as a slice, in symbol-id order. An interval in which a symbol had no tick has no bar for
// it (no forward fill here: consumers decide). A tick older than the open interval is late: it is
// rejected with kOutOfOrder and counted by the caller, never merged into a closed bar. Ticks inside
// the open interval are accepted in any order (open/close follow arrival order). flush() emits the
// last, partial interval at the end of input.
//
// Per-symbol state is struct-of-arrays indexed by SymbolId; no allocation per tick once every
// symbol has been seen. Single-threaded: owned by the thread that feeds ticks.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "base/status.h"
#include "model/messages.h"

namespace pairflow::features {

class TimeBarAggregator {
 public:
  explicit TimeBarAggregator(Timestamp interval) : interval_(interval) {
    PAIRFLOW_CHECK(interval > 0, "bar interval must be positive");
  }

  Timestamp interval() const { return interval_; }
  // Start of the interval currently accumulating, or 0 before the first tick.
  Timestamp open_start() const { return open_start_; }

  // on_slice(Timestamp start, std::span<const Bar> bars) is called for each closed interval.
  template <typename OnSlice>
  Status on_tick(const Tick& tick, OnSlice&& on_slice) {
    const Timestamp start = align_down(tick.ts, interval_);
    if (!started_) {
      started_ = true;
      open_start_ = start;
    } else if (start < open_start_) {
      return Status(StatusCode::kOutOfOrder, "tick is older than the open bar interval");
    } else if (start > open_start_) {
      close_open_interval(on_slice);
      open_start_ = start;
    }
    accumulate(tick);
    return Status::ok();
  }

  // Emits the open (partial) interval, if it has ticks.
  template <typename OnSlice>
  void flush(OnSlice&& on_slice) {
    if (started_) close_open_interval(on_slice);
  }

 private:
  void ensure(SymbolId symbol) {
    if (symbol >= count_.size()) {
      std::size_t n = symbol + 1;
      open_.resize(n);
      high_.resize(n);
      low_.resize(n);
      close_.resize(n);
      volume_.resize(n);
      notional_.resize(n);
      count_.resize(n, 0);
    }
  }

  void accumulate(const Tick& tick) {
    const SymbolId s = tick.symbol;
    ensure(s);
    if (count_[s] == 0) {
      touched_.push_back(s);
      open_[s] = high_[s] = low_[s] = tick.price;
      volume_[s] = notional_[s] = 0;
    } else {
      high_[s] = std::max(high_[s], tick.price);
      low_[s] = std::min(low_[s], tick.price);
    }
    close_[s] = tick.price;
    volume_[s] += tick.size;
    notional_[s] += tick.size * tick.price;
    ++count_[s];
  }

  template <typename OnSlice>
  void close_open_interval(OnSlice& on_slice) {
    if (touched_.empty()) return;
    std::sort(touched_.begin(), touched_.end());
    slice_.clear();
    for (SymbolId s : touched_) {
      Bar bar;
      bar.ts = open_start_;
      bar.symbol = s;
      bar.open = open_[s];
      bar.high = high_[s];
      bar.low = low_[s];
      bar.close = close_[s];
      bar.volume = volume_[s];
      // A bar of zero-size ticks has no volume weighting: fall back to the close.
      bar.vwap = volume_[s] > 0 ? notional_[s] / volume_[s] : close_[s];
      bar.count = count_[s];
      slice_.push_back(bar);
      count_[s] = 0;
    }
    touched_.clear();
    on_slice(open_start_, std::span<const Bar>(slice_));
  }

  Timestamp interval_;
  Timestamp open_start_ = 0;
  bool started_ = false;
  std::vector<double> open_, high_, low_, close_, volume_, notional_;
  std::vector<std::uint32_t> count_;
  std::vector<SymbolId> touched_;
  std::vector<Bar> slice_;
};

}  // namespace pairflow::features
