// TimeBarAggregator: ticks of many symbols -> OHLCV/VWAP time bars, closed by event time.
//
// Bars cover epoch-aligned [start, start + interval) and are labelled by start. The watermark is
// the latest tick time seen minus the allowed lateness (default 0). An interval is closed when the
// watermark reaches its end; all bars of one interval are then emitted together as a slice, in
// symbol-id order, and slices are emitted in start order. Rules (docs/features.md):
//   - gaps: an interval in which a symbol had no tick has no bar for it, and an interval with no
//     tick at all emits no slice (no forward fill here: consumers decide);
//   - out-of-order ticks: a tick whose interval is still open is applied, whatever its arrival
//     order; OHLC then follow event time (open = earliest tick, close = latest; ties by arrival),
//     so a bar equals the bar of the same ticks sorted by time. A tick whose interval has already
//     closed is late: rejected with kOutOfOrder, counted in late_rejected(), never merged;
//   - the last partial bar: flush() emits every open interval at the end of a finite input. A
//     live stream never flushes: an interval is only emitted once the watermark passes its end.
//
// Per-symbol state is struct-of-arrays indexed by SymbolId (one slot per open interval); no
// allocation per tick once every symbol has been seen. When the lateness spans more than
// kMaxDenseSlots intervals (a day of lateness on 1-second bars), a dense ring would cost
// symbols x lateness/interval rows whatever the data; the aggregator then keeps only the
// (symbol, interval) bars that have ticks, so memory follows the data, not the setting.
// Single-threaded: owned by the thread that feeds ticks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "features/ohlcv.h"
#include "model/messages.h"

namespace pairflow::features {

class TimeBarAggregator {
 public:
  static constexpr Timestamp kMaxDenseSlots = 64;

  // `sparse` forces the sparse layout whatever the lateness (tests compare the two).
  explicit TimeBarAggregator(Timestamp interval, Timestamp allowed_lateness = 0,
                             bool sparse = false)
      : interval_(interval), lateness_(allowed_lateness) {
    PAIRFLOW_CHECK(interval > 0, "bar interval must be positive");
    PAIRFLOW_CHECK(allowed_lateness >= 0, "allowed lateness must not be negative");
    sparse_ = sparse || allowed_lateness / interval + 3 > kMaxDenseSlots;
    slots_ = sparse_ ? 0 : static_cast<std::size_t>(allowed_lateness / interval) + 3;
    touched_.resize(slots_);
  }

  Timestamp interval() const { return interval_; }
  Timestamp allowed_lateness() const { return lateness_; }
  // Start of the earliest interval still open, or 0 before the first tick.
  Timestamp open_start() const { return next_close_; }
  // Latest tick time seen minus the allowed lateness (meaningless before the first tick).
  Timestamp watermark() const { return max_ts_ - lateness_; }
  std::uint64_t late_rejected() const { return late_; }
  // Bar rows held (open or reusable): what the state costs, for tests of its bound.
  std::size_t rows() const { return bars_.size(); }

  // on_slice(Timestamp start, std::span<const Bar> bars) is called for each closed interval.
  template <typename OnSlice>
  Status on_tick(const Tick& tick, OnSlice&& on_slice) {
    Timestamp start;
    if (tick.ts >= last_start_ && tick.ts - last_start_ < interval_) {
      start = last_start_;  // fast path: same interval as the previous tick
    } else {
      start = align_down(tick.ts, interval_);
    }
    if (!started_) {
      started_ = true;
      max_ts_ = tick.ts;
      next_close_ = align_down(tick.ts - lateness_, interval_);  // first interval still open
    } else if (start < next_close_) {
      ++late_;
      return Status(StatusCode::kOutOfOrder, "tick is older than the open bar interval");
    } else if (tick.ts > max_ts_) {
      max_ts_ = tick.ts;
      if (max_ts_ - lateness_ - next_close_ >= interval_)
        close_through(max_ts_ - lateness_, on_slice);
    }
    last_start_ = start;
    accumulate(tick, start);
    return Status::success();
  }

  // Emits every open (partial) interval that has ticks, in start order.
  template <typename OnSlice>
  void flush(OnSlice&& on_slice) {
    if (!started_) return;
    while (sparse_ && !sparse_open_.empty()) close_interval(sparse_open_.begin()->first, on_slice);
    while (pending_ > 0) {
      close_interval(next_close_, on_slice);
      next_close_ += interval_;
    }
    next_close_ = align_down(max_ts_, interval_) + interval_;
  }

 private:
  std::size_t slot_of(Timestamp start) const {
    // Floor division, also before 1970.
    Timestamp q = start / interval_;
    if (start % interval_ != 0 && start < 0) --q;
    Timestamp m = q % static_cast<Timestamp>(slots_);
    if (m < 0) m += static_cast<Timestamp>(slots_);
    return static_cast<std::size_t>(m);
  }

  void ensure(SymbolId symbol) {
    if (symbol >= symbols_) {
      symbols_ = static_cast<std::size_t>(symbol) + 1;
      bars_.resize(symbols_ * slots_);
    }
  }

  void accumulate(const Tick& tick, Timestamp start) {
    const SymbolId s = tick.symbol;
    if (sparse_) {
      const SparseKey key = sparse_key(start, s);
      auto [it, inserted] = sparse_rows_.try_emplace(key, 0);
      if (inserted) {
        if (free_rows_.empty()) {
          it->second = bars_.size();
          bars_.resize(bars_.size() + 1);
        } else {
          it->second = free_rows_.back();
          free_rows_.pop_back();
        }
        sparse_open_[start].push_back(s);
      }
      bars_.add(it->second, tick);
      ++pending_;
      return;
    }
    ensure(s);
    const std::size_t slot = slot_of(start);
    const std::size_t i = static_cast<std::size_t>(s) * slots_ + slot;
    if (bars_.add(i, tick)) touched_[slot].push_back(s);
    ++pending_;
  }

  // Closes every interval whose end is at or before `watermark`.
  template <typename OnSlice>
  void close_through(Timestamp watermark, OnSlice& on_slice) {
    if (sparse_) {
      while (!sparse_open_.empty() && sparse_open_.begin()->first + interval_ <= watermark) {
        close_interval(sparse_open_.begin()->first, on_slice);
      }
      next_close_ = std::max(next_close_, align_down(watermark, interval_));
      return;
    }
    while (next_close_ + interval_ <= watermark) {
      if (pending_ == 0) {  // nothing open: jump over the gap
        next_close_ = std::max(next_close_, align_down(watermark, interval_));
        return;
      }
      close_interval(next_close_, on_slice);
      next_close_ += interval_;
    }
  }

  template <typename OnSlice>
  void close_interval(Timestamp start, OnSlice& on_slice) {
    if (sparse_) {
      auto open = sparse_open_.find(start);
      if (open == sparse_open_.end()) return;
      std::vector<SymbolId>& touched = open->second;
      std::sort(touched.begin(), touched.end());
      slice_.clear();
      for (SymbolId s : touched) {
        auto row = sparse_rows_.find(sparse_key(start, s));
        pending_ -= bars_.count[row->second];
        slice_.push_back(bars_.take(row->second, start, s));
        free_rows_.push_back(row->second);
        sparse_rows_.erase(row);
      }
      sparse_open_.erase(open);
      on_slice(start, std::span<const Bar>(slice_));
      return;
    }
    const std::size_t slot = slot_of(start);
    std::vector<SymbolId>& touched = touched_[slot];
    if (touched.empty()) return;
    std::sort(touched.begin(), touched.end());
    slice_.clear();
    for (SymbolId s : touched) {
      const std::size_t i = static_cast<std::size_t>(s) * slots_ + slot;
      pending_ -= bars_.count[i];
      slice_.push_back(bars_.take(i, start, s));
    }
    touched.clear();
    on_slice(start, std::span<const Bar>(slice_));
  }

  // Sparse mode: (interval index, symbol) -> row of bars_; open intervals in start order.
  struct SparseKey {
    Timestamp start;
    SymbolId symbol;
    bool operator==(const SparseKey&) const = default;
  };
  struct SparseKeyHash {
    std::size_t operator()(const SparseKey& k) const {
      return std::hash<Timestamp>()(k.start) * 31 + k.symbol;
    }
  };
  static SparseKey sparse_key(Timestamp start, SymbolId s) { return {start, s}; }

  Timestamp interval_;
  Timestamp lateness_;
  bool sparse_ = false;
  std::unordered_map<SparseKey, std::size_t, SparseKeyHash> sparse_rows_;
  std::map<Timestamp, std::vector<SymbolId>> sparse_open_;
  std::vector<std::size_t> free_rows_;
  std::size_t slots_ = 0;     // ring of open intervals: slot = (start / interval) mod slots_
  std::size_t symbols_ = 0;   // symbols with state
  Timestamp next_close_ = 0;  // start of the earliest interval not yet closed
  Timestamp max_ts_ = 0;
  Timestamp last_start_ = 0;  // interval of the previous accepted tick (fast path)
  bool started_ = false;
  std::uint64_t pending_ = 0;  // ticks in open intervals
  std::uint64_t late_ = 0;
  // State of (symbol, slot) at symbol * slots_ + slot.
  OhlcvColumns bars_;                           // row = symbol * slots_ + slot
  std::vector<std::vector<SymbolId>> touched_;  // per slot, symbols with ticks
  std::vector<Bar> slice_;
};

}  // namespace pairflow::features
