#include "features/stream_join.h"

#include <algorithm>
#include <tuple>

namespace pairflow::features {
namespace {

constexpr std::size_t kCompactAfter = 64;

}  // namespace

StreamJoin::StreamJoin(std::vector<JoinInput> inputs, JoinConfig config)
    : inputs_(std::move(inputs)), config_(config) {
  PAIRFLOW_CHECK(inputs_.size() >= 2, "a join needs at least two inputs");
  PAIRFLOW_CHECK(config_.mode == JoinMode::kAsOf || config_.tolerance >= 0,
                 "interval join needs a tolerance >= 0");
  PAIRFLOW_CHECK(config_.idle_timeout >= 0, "idle timeout must not be negative");
  state_.resize(inputs_.size());
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    PAIRFLOW_CHECK(inputs_[i].width >= 0, "input width must not be negative");
    PAIRFLOW_CHECK(inputs_[i].allowed_lateness >= 0, "allowed lateness must not be negative");
    state_[i].offset = total_width_;
    total_width_ += static_cast<std::size_t>(inputs_[i].width);
  }
  row_.assign(total_width_, kNaN);
}

Timestamp StreamJoin::horizon(std::size_t i) const {
  if (i == 0 || config_.mode == JoinMode::kAsOf) return 0;
  return config_.tolerance;
}

Timestamp StreamJoin::watermark(std::size_t i) const {
  const Timestamp m = state_[i].max_ts;
  return m == kNever ? kNever : m - inputs_[i].allowed_lateness;
}

bool StreamJoin::idle(std::size_t i) const {
  if (config_.idle_timeout <= 0 || global_max_ == kNever) return false;
  const Timestamp last = state_[i].max_ts == kNever ? first_ts_ : state_[i].max_ts;
  return global_max_ - last > config_.idle_timeout;
}

Timestamp StreamJoin::compute_frontier() const {
  Timestamp f = std::numeric_limits<Timestamp>::max();
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    if (idle(i)) continue;
    if (state_[i].max_ts == kNever) return kNever;  // waits for this input's first row
    f = std::min(f, watermark(i) - horizon(i));
  }
  return f == std::numeric_limits<Timestamp>::max() ? frontier_ : f;
}

Status StreamJoin::insert(std::size_t input, Timestamp ts, SymbolId key,
                          std::span<const double> values) {
  PAIRFLOW_CHECK(input < inputs_.size(), "join input index out of range");
  PAIRFLOW_CHECK(values.size() == static_cast<std::size_t>(inputs_[input].width),
                 "join row has the wrong number of values");
  InputState& in = state_[input];
  const Timestamp w = watermark(input);
  if (w != kNever && ts < w) {
    ++in.late[static_cast<int>(LateReason::kBehindWatermark)];
    return Status(StatusCode::kOutOfOrder, "late row: older than input '" + inputs_[input].name +
                                               "' watermark (max event time - allowed lateness)");
  }
  if (frontier_ != kNever && ts < frontier_ + horizon(input)) {
    ++in.late[static_cast<int>(LateReason::kAfterEmit)];
    return Status(StatusCode::kOutOfOrder, "late row: joined rows for its time of input '" +
                                               inputs_[input].name + "' were already emitted");
  }
  if (first_ts_ == kNever) first_ts_ = ts;
  // The frontier depends only on the inputs' latest times: a row that raises neither cannot move
  // it.
  frontier_may_move_ = ts > in.max_ts || ts > global_max_;
  in.max_ts = std::max(in.max_ts, ts);
  global_max_ = std::max(global_max_, ts);
  ++in.rows_in;
  const std::size_t width = values.size();
  if (input == 0) {
    std::uint32_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(width == 0 ? heap_.size() : pending_values_.size() / width);
      pending_values_.resize(pending_values_.size() + width);
    }
    std::copy(values.begin(), values.end(), pending_values_.begin() + slot * width);
    heap_push(Pending{ts, key, seq_++, slot});
    return Status::ok();
  }
  if (key >= in.keys.size()) in.keys.resize(static_cast<std::size_t>(key) + 1);
  KeyRows& rows = in.keys[key];
  if (rows.ts.size() == rows.begin || ts >= rows.ts.back()) {
    rows.ts.push_back(ts);
    rows.values.insert(rows.values.end(), values.begin(), values.end());
  } else {
    // Out of order within the lateness: insert after every row at or before ts (stable).
    const auto pos = std::upper_bound(rows.ts.begin() + rows.begin, rows.ts.end(), ts);
    const std::size_t idx = static_cast<std::size_t>(pos - rows.ts.begin());
    rows.ts.insert(pos, ts);
    rows.values.insert(rows.values.begin() + idx * width, values.begin(), values.end());
  }
  evict(rows);
  return Status::ok();
}

void StreamJoin::evict(KeyRows& rows) const {
  if (frontier_ == kNever) return;
  const std::size_t end = rows.ts.size();
  const Timestamp tol = config_.tolerance;
  if (config_.mode == JoinMode::kAsOf) {
    // Future driving rows are at or after the frontier: only the latest row before it matters.
    while (rows.begin + 1 < end && rows.ts[rows.begin + 1] < frontier_) ++rows.begin;
    if (tol >= 0) {
      while (rows.begin < end && rows.ts[rows.begin] < frontier_ - tol) ++rows.begin;
    }
  } else {
    while (rows.begin < end && rows.ts[rows.begin] < frontier_ - tol) ++rows.begin;
  }
  if (rows.begin >= kCompactAfter && rows.begin * 2 >= end) {
    const std::size_t width = end == 0 ? 0 : rows.values.size() / end;
    rows.ts.erase(rows.ts.begin(), rows.ts.begin() + rows.begin);
    rows.values.erase(rows.values.begin(), rows.values.begin() + rows.begin * width);
    rows.begin = 0;
  }
}

void StreamJoin::maybe_sweep() {
  std::size_t keys = 0;
  for (std::size_t i = 1; i < state_.size(); ++i) keys += state_[i].keys.size();
  if (++since_sweep_ < std::max<std::size_t>(1024, keys)) return;
  since_sweep_ = 0;
  for (std::size_t i = 1; i < state_.size(); ++i) {
    for (KeyRows& rows : state_[i].keys) evict(rows);
  }
}

void StreamJoin::fill(const Pending& p) {
  const std::size_t w0 = static_cast<std::size_t>(inputs_[0].width);
  std::copy_n(pending_values_.begin() + p.slot * w0, w0, row_.begin());
  const Timestamp tol = config_.tolerance;
  for (std::size_t i = 1; i < inputs_.size(); ++i) {
    const InputState& in = state_[i];
    const std::size_t width = static_cast<std::size_t>(inputs_[i].width);
    double* out = row_.data() + in.offset;
    std::fill_n(out, width, kNaN);
    if (p.key >= in.keys.size()) continue;
    const KeyRows& rows = in.keys[p.key];
    const auto first = rows.ts.begin() + rows.begin;
    const auto ub = std::upper_bound(first, rows.ts.end(), p.ts);
    std::ptrdiff_t match = -1;
    if (ub != first) {  // latest row at or before ts (the last arrival among equal times)
      const Timestamp age = p.ts - *(ub - 1);
      if (tol < 0 || age <= tol) match = (ub - 1) - rows.ts.begin();
    }
    if (config_.mode == JoinMode::kInterval && ub != rows.ts.end()) {
      const Timestamp ahead = *ub - p.ts;
      const bool prev_ok = match >= 0 && p.ts - rows.ts[match] <= ahead;
      if (ahead <= tol && !prev_ok) {
        match = (std::upper_bound(ub, rows.ts.end(), *ub) - 1) - rows.ts.begin();
      }
    }
    if (match >= 0) std::copy_n(rows.values.begin() + match * width, width, out);
  }
}

bool StreamJoin::heap_less(const Pending& a, const Pending& b) const {
  return std::tie(a.ts, a.key, a.seq) > std::tie(b.ts, b.key, b.seq);
}

void StreamJoin::heap_push(const Pending& p) {
  heap_.push_back(p);
  std::push_heap(heap_.begin(), heap_.end(),
                 [this](const Pending& a, const Pending& b) { return heap_less(a, b); });
}

StreamJoin::Pending StreamJoin::heap_pop() {
  std::pop_heap(heap_.begin(), heap_.end(),
                [this](const Pending& a, const Pending& b) { return heap_less(a, b); });
  const Pending p = heap_.back();
  heap_.pop_back();
  return p;
}

std::size_t StreamJoin::state_rows() const {
  std::size_t n = heap_.size();
  for (std::size_t i = 1; i < state_.size(); ++i) {
    for (const KeyRows& rows : state_[i].keys) n += rows.size();
  }
  return n;
}

}  // namespace pairflow::features
