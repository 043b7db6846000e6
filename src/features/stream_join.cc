#include "features/stream_join.h"

#include <algorithm>
#include <bit>
#include <iterator>
#include <tuple>

namespace pairflow::features {
namespace {

// A key's rows are moved to the front of their buffers once this many (and at least half) have
// been evicted. Small, so that the few live rows stay in a few cache lines.
constexpr std::size_t kCompactAfter = 8;

// Copies one row's values. Not std::copy: for the one or two columns of a typical input, the
// memmove calls it became took about a tenth of the join's time.
void copy_values(const double* from, std::size_t n, double* to) {
  switch (n) {
    case 2:
      to[1] = from[1];
      [[fallthrough]];
    case 1:
      to[0] = from[0];
      [[fallthrough]];
    case 0:
      return;
    default:
      std::copy_n(from, n, to);
  }
}

// std::upper_bound on times without data-dependent branches (the comparison feeds a conditional
// move): where a driving row falls among a key's rows is random, so a branchy search mispredicts
// about once per lookup.
std::size_t upper_bound_time(const Timestamp* ts, std::size_t first, std::size_t end, Timestamp t) {
  if (first == end) return first;
  const Timestamp* base = ts + first;
  std::size_t n = end - first;  // the answer is in [base, base + n]
  while (n > 1) {
    const std::size_t half = n / 2;
    base = base[half] <= t ? base + half : base;
    n -= half;
  }
  return static_cast<std::size_t>(base - ts) + (*base <= t ? 1 : 0);
}

// Advances `begin` while row begin + ahead (< end) is before `bound`. The first two steps without
// branches: the frontier usually passes zero to two rows of a key between two of its inserts, a
// count that a branch predicts badly. end > 0.
std::size_t skip_before(const Timestamp* ts, std::size_t begin, std::size_t ahead, std::size_t end,
                        Timestamp bound) {
  for (int k = 0; k < 2; ++k) {
    const std::size_t i = begin + ahead;
    begin += (i < end) & (ts[std::min(i, end - 1)] < bound);
  }
  while (begin + ahead < end && ts[begin + ahead] < bound) ++begin;
  return begin;
}

// Event time as an unsigned key with the same order, for the radix heap's bit arithmetic.
std::uint64_t time_key(Timestamp ts) {
  return static_cast<std::uint64_t>(ts) ^ (std::uint64_t{1} << 63);
}

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
  nan_row_.assign(total_width_, kNaN);
  buckets_.resize(kBuckets);
  bucket_min_.resize(kBuckets);
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
      slot = static_cast<std::uint32_t>(width == 0 ? pending_ : pending_values_.size() / width);
      pending_values_.resize(pending_values_.size() + width);
    }
    copy_values(values.data(), width, pending_values_.data() + slot * width);
    push_pending(Pending{ts, key, slot, seq_++});
    return Status::success();
  }
  if (key >= in.keys.size()) in.keys.resize(static_cast<std::size_t>(key) + 1);
  KeyRows& rows = in.keys[key];
  std::size_t i = rows.ts.size();
  rows.ts.push_back(ts);
  for (const double v : values) rows.values.push_back(v);
  if (i > rows.begin && rows.ts[i - 1] > ts) {
    // Out of order within the lateness: goes after every row at or before ts (stable). Shifting
    // the later rows one by one beats upper_bound + vector::insert: they are usually very few.
    Timestamp* t = rows.ts.data();
    double* v = rows.values.data();
    do {
      t[i] = t[i - 1];
      copy_values(v + (i - 1) * width, width, v + i * width);
      --i;
    } while (i > rows.begin && t[i - 1] > ts);
    t[i] = ts;
    copy_values(values.data(), width, v + i * width);
  }
  evict(rows);
  return Status::success();
}

void StreamJoin::evict(KeyRows& rows) const {
  const std::size_t end = rows.ts.size();
  if (frontier_ == kNever || end == 0) return;
  const Timestamp* ts = rows.ts.data();
  const Timestamp tol = config_.tolerance;
  if (config_.mode == JoinMode::kAsOf) {
    // Future driving rows are at or after the frontier: only the latest row before it matters.
    rows.begin = skip_before(ts, rows.begin, 1, end, frontier_);
    if (tol >= 0) rows.begin = skip_before(ts, rows.begin, 0, end, frontier_ - tol);
  } else {
    rows.begin = skip_before(ts, rows.begin, 0, end, frontier_ - tol);
  }
  if (rows.begin >= kCompactAfter && rows.begin * 2 >= end) {
    const std::size_t width = rows.values.size() / end;
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
  copy_values(pending_values_.data() + p.slot * w0, w0, row_.data());
  const Timestamp tol = config_.tolerance;
  for (std::size_t i = 1; i < inputs_.size(); ++i) {
    const InputState& in = state_[i];
    const std::size_t width = static_cast<std::size_t>(inputs_[i].width);
    double* out = row_.data() + in.offset;
    if (p.key >= in.keys.size() || in.keys[p.key].size() == 0) {
      std::fill_n(out, width, kNaN);
      continue;
    }
    const KeyRows& rows = in.keys[p.key];
    const Timestamp* ts = rows.ts.data();
    const std::size_t first = rows.begin;
    const std::size_t end = rows.ts.size();
    const std::size_t ub = upper_bound_time(ts, first, end, p.ts);  // the first row after p.ts
    // The latest row at or before p.ts (the last arrival among equal times).
    const std::size_t prev = ub - (ub != first);
    const Timestamp age = p.ts - ts[prev];
    const bool prev_ok = (ub != first) & ((tol < 0) | (age <= tol));
    if (config_.mode == JoinMode::kAsOf) {
      if (prev_ok) {
        copy_values(rows.values.data() + prev * width, width, out);
      } else {
        std::fill_n(out, width, kNaN);
      }
      continue;
    }
    // Interval: the first row after p.ts if it is nearer (ties: the earlier one); among equal
    // times, the last arrival. Which row matches, if any, depends on the data, so it is chosen
    // with masks rather than branches, which mispredicted about once per input and row.
    const std::size_t next = ub - (ub == end);
    const Timestamp ahead = ts[next] - p.ts;
    const bool next_ok = (ub != end) & (ahead <= tol) & !(prev_ok & (age <= ahead));
    std::size_t next_last = next;
    if (next + 1 < end && ts[next + 1] == ts[next]) {
      next_last = upper_bound_time(ts, next, end, ts[next]) - 1;
    }
    const std::size_t match = prev ^ ((prev ^ next_last) & (std::size_t{0} - next_ok));
    const double* from[2] = {nan_row_.data(), rows.values.data() + match * width};
    copy_values(from[prev_ok | next_ok], width, out);
  }
}

std::size_t StreamJoin::bucket_of(std::uint64_t u) const {
  const int level = (63 - std::countl_zero(u ^ last_)) / kDigitBits;
  const std::uint64_t digit = (u >> (level * kDigitBits)) & ((std::uint64_t{1} << kDigitBits) - 1);
  return (static_cast<std::size_t>(level) << kDigitBits) | digit;
}

void StreamJoin::put(std::size_t bucket, std::uint64_t u, const Pending& p) {
  std::uint64_t& word = bucket_mask_[bucket / 64];
  const std::uint64_t bit = std::uint64_t{1} << (bucket % 64);
  bucket_min_[bucket] = (word & bit) ? std::min(bucket_min_[bucket], u) : u;
  word |= bit;
  buckets_[bucket].push_back(p);
}

void StreamJoin::push_pending(const Pending& p) {
  const std::uint64_t u = time_key(p.ts);
  if (u < last_) {
    // Only after flush(), which emits past the frontier: start the queue over from time key 0.
    std::vector<Pending> all(ready_.begin() + static_cast<std::ptrdiff_t>(ready_pos_),
                             ready_.end());
    for (std::vector<Pending>& bucket : buckets_) {
      all.insert(all.end(), bucket.begin(), bucket.end());
      bucket.clear();
    }
    ready_.clear();
    ready_pos_ = 0;
    std::fill(std::begin(bucket_mask_), std::end(bucket_mask_), 0);
    last_ = 0;
    pending_ = 0;
    for (const Pending& q : all) push_pending(q);
  }
  ++pending_;
  if (u == last_) {  // at the time being emitted (only time key 0 before the first emission)
    const auto pos = std::upper_bound(ready_.begin() + static_cast<std::ptrdiff_t>(ready_pos_),
                                      ready_.end(), p, [](const Pending& a, const Pending& b) {
                                        return std::tie(a.key, a.seq) < std::tie(b.key, b.seq);
                                      });
    ready_.insert(pos, p);
    return;
  }
  put(bucket_of(u), u, p);
}

bool StreamJoin::refill_ready(Timestamp limit) {
  std::size_t w = 0;
  while (w < std::size(bucket_mask_) && bucket_mask_[w] == 0) ++w;
  if (w == std::size(bucket_mask_)) return false;
  const std::size_t b = w * 64 + static_cast<std::size_t>(std::countr_zero(bucket_mask_[w]));
  const std::uint64_t m = bucket_min_[b];
  if (m >= time_key(limit)) return false;
  // The rows of the lowest bucket agree with its minimum m on their level's digit and every digit
  // above, so each moves to a lower level (all empty) or, at m itself, to ready_. The rows of
  // other buckets stay where they are: they differ from m where they differed from last_.
  last_ = m;
  ready_.clear();
  ready_pos_ = 0;
  bucket_mask_[w] &= bucket_mask_[w] - 1;
  for (const Pending& p : buckets_[b]) {
    const std::uint64_t u = time_key(p.ts);
    if (u == m) {
      ready_.push_back(p);
    } else {
      put(bucket_of(u), u, p);
    }
  }
  buckets_[b].clear();
  if (ready_.size() > 1) {
    std::sort(ready_.begin(), ready_.end(), [](const Pending& a, const Pending& b) {
      return std::tie(a.key, a.seq) < std::tie(b.key, b.seq);
    });
  }
  return true;
}

std::size_t StreamJoin::state_rows() const {
  std::size_t n = pending_;
  for (std::size_t i = 1; i < state_.size(); ++i) {
    for (const KeyRows& rows : state_[i].keys) n += rows.size();
  }
  return n;
}

}  // namespace pairflow::features
