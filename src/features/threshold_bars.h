// ThresholdBarAggregator: ticks of many symbols -> tick, volume or dollar bars.
//
// A symbol's bar closes, and is emitted at once, on the tick that brings its measure to the
// threshold: the number of ticks (tick bars), the summed size (volume bars) or the summed
// price * size (dollar bars). The closing tick belongs wholly to the bar (no splitting), so a
// volume or dollar bar may overshoot its threshold. A bar is labelled by its earliest tick's time
// and carries OHLCV, VWAP and the tick count like a time bar. Rules (docs/features.md):
//   - out-of-order ticks: each symbol has a watermark, its latest tick time minus the allowed
//     lateness. A tick older than the watermark is rejected (counted in late_beyond_lateness());
//     a tick older than the latest tick of the symbol's last emitted bar is rejected (its bar has
//     closed; counted in late_bar_closed()). Otherwise it joins the open bar, and OHLC follow event
//     time (open = earliest, close = latest; ties by arrival). Rejected ticks change no state;
//   - gaps do not exist for these bars (they are not time-based); a bar may span any time;
//   - the last partial bar: flush() emits each symbol's open bar (measure below the threshold) at
//     the end of a finite input, in symbol-id order.
//
// Per-symbol state is struct-of-arrays indexed by SymbolId; no allocation per tick once every
// symbol has been seen. Single-threaded: owned by the thread that feeds ticks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "base/status.h"
#include "features/ohlcv.h"
#include "model/messages.h"

namespace pairflow::features {

enum class ThresholdKind : std::uint8_t { kTick, kVolume, kDollar };

class ThresholdBarAggregator {
 public:
  ThresholdBarAggregator(ThresholdKind kind, double threshold, Timestamp allowed_lateness = 0)
      : kind_(kind), threshold_(threshold), lateness_(allowed_lateness) {
    PAIRFLOW_CHECK(threshold > 0, "bar threshold must be positive");
    PAIRFLOW_CHECK(allowed_lateness >= 0, "allowed lateness must not be negative");
  }

  ThresholdKind kind() const { return kind_; }
  double threshold() const { return threshold_; }
  std::uint64_t late_beyond_lateness() const { return late_lateness_; }
  std::uint64_t late_bar_closed() const { return late_closed_; }
  std::uint64_t late_rejected() const { return late_lateness_ + late_closed_; }

  // on_bar(const Bar&) is called for each bar as it closes.
  template <typename OnBar>
  Status on_tick(const Tick& tick, OnBar&& on_bar) {
    const SymbolId s = tick.symbol;
    ensure(s);
    if (tick.ts < max_ts_[s] - lateness_) {
      ++late_lateness_;
      return Status(StatusCode::kOutOfOrder, "tick is older than the allowed lateness");
    }
    if (tick.ts < closed_ts_[s]) {
      ++late_closed_;
      return Status(StatusCode::kOutOfOrder, "tick belongs to a bar that has already closed");
    }
    max_ts_[s] = std::max(max_ts_[s], tick.ts);
    bars_.add(s, tick);
    double measure;
    switch (kind_) {
      case ThresholdKind::kTick:
        measure = bars_.count[s];
        break;
      case ThresholdKind::kVolume:
        measure = bars_.volume[s];
        break;
      default:
        measure = bars_.notional[s];
        break;
    }
    if (measure >= threshold_) emit(s, on_bar);
    return Status::success();
  }

  // Emits each symbol's open (partial) bar, in symbol-id order.
  template <typename OnBar>
  void flush(OnBar&& on_bar) {
    for (SymbolId s = 0; s < bars_.size(); ++s) {
      if (bars_.count[s] > 0) emit(s, on_bar);
    }
  }

 private:
  void ensure(SymbolId symbol) {
    if (symbol >= bars_.size()) {
      const std::size_t n = static_cast<std::size_t>(symbol) + 1;
      bars_.resize(n);
      max_ts_.resize(n, std::numeric_limits<Timestamp>::min() / 2);
      closed_ts_.resize(n, std::numeric_limits<Timestamp>::min());
    }
  }

  template <typename OnBar>
  void emit(SymbolId s, OnBar& on_bar) {
    closed_ts_[s] = bars_.close_ts[s];
    const Bar bar = bars_.take(s, bars_.open_ts[s], s);
    on_bar(bar);
  }

  ThresholdKind kind_;
  double threshold_;
  Timestamp lateness_;
  std::uint64_t late_lateness_ = 0, late_closed_ = 0;
  OhlcvColumns bars_;  // one row per symbol
  std::vector<Timestamp> max_ts_, closed_ts_;
};

}  // namespace pairflow::features
