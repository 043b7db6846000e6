#include "ui/hub.h"

#include <algorithm>

#include "base/json_writer.h"

namespace pairflow::ui {

namespace {
constexpr const char* kNames[kStreams] = {"pnl",        "positions", "pairs", "signals", "orders",
                                          "executions", "screener",  "risk",  "jobs"};
// Event streams: every update is a new key; the snapshot is the recent history.
bool event_stream(Stream s) { return s == Stream::kSignals || s == Stream::kExecutions; }
constexpr std::size_t kEventSnapshot = 500;
constexpr std::size_t kMaxEquityPoints = 20000;
constexpr std::size_t kPairTrades = 200;
}  // namespace

const char* stream_name(Stream stream) { return kNames[static_cast<int>(stream)]; }

bool parse_stream(std::string_view text, Stream& stream) {
  for (int i = 0; i < kStreams; ++i) {
    if (text == kNames[i]) {
      stream = static_cast<Stream>(i);
      return true;
    }
  }
  return false;
}

bool conflatable(Stream stream) {
  return stream == Stream::kPnl || stream == Stream::kPairs || stream == Stream::kScreener;
}

Hub::Hub(std::size_t history, std::size_t pair_history)
    : history_(history), pair_history_(pair_history) {}

void Hub::publish(Stream stream, std::string key, std::string data) {
  std::string message;
  message.reserve(data.size() + key.size() + 64);
  const bool removed = data == "null";
  auto data_text = std::make_shared<const std::string>(std::move(data));
  std::lock_guard lock(mutex_);
  StreamState& s = streams_[static_cast<int>(stream)];
  Update u;
  u.seq = ++s.seq;
  message += R"({"type":"update","stream":")";
  message += stream_name(stream);
  message += R"(","seq":)";
  message += std::to_string(u.seq);
  message += R"(,"key":)";
  append_json_string(message, key);
  message += R"(,"data":)";
  message += *data_text;
  message += '}';
  u.key = std::move(key);
  u.data = std::move(data_text);
  u.message = std::make_shared<const std::string>(std::move(message));
  if (!event_stream(stream)) {
    if (removed) {
      s.latest.erase(u.key);
    } else {
      s.latest[u.key] = u;
    }
  }
  s.history.push_back(std::move(u));
  while (s.history.size() > history_) s.history.pop_front();
  dirty_ = true;
}

void Hub::commit() {
  std::function<void()> listener;
  {
    std::lock_guard lock(mutex_);
    if (!dirty_) return;
    dirty_ = false;
    listener = listener_;
  }
  if (listener) listener();
}

void Hub::set_listener(std::function<void()> listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

Hub::Snapshot Hub::snapshot(Stream stream) const {
  std::lock_guard lock(mutex_);
  const StreamState& s = streams_[static_cast<int>(stream)];
  Snapshot out;
  out.seq = s.seq;
  if (event_stream(stream)) {
    const std::size_t from =
        s.history.size() > kEventSnapshot ? s.history.size() - kEventSnapshot : 0;
    for (std::size_t i = from; i < s.history.size(); ++i)
      out.items.emplace_back(s.history[i].key, s.history[i].data);
  } else {
    out.items.reserve(s.latest.size());
    for (const auto& [key, u] : s.latest) out.items.emplace_back(key, u.data);
  }
  return out;
}

bool Hub::since(Stream stream, std::uint64_t after, std::size_t limit,
                std::vector<Update>& out) const {
  std::lock_guard lock(mutex_);
  const StreamState& s = streams_[static_cast<int>(stream)];
  if (after >= s.seq) return true;
  if (s.history.empty() || after + 1 < s.history.front().seq) return false;
  std::size_t i = after + 1 - s.history.front().seq;
  for (; i < s.history.size() && limit > 0; ++i, --limit) out.push_back(s.history[i]);
  return true;
}

bool Hub::latest_since(Stream stream, std::uint64_t after, std::vector<Update>& out) const {
  std::lock_guard lock(mutex_);
  const StreamState& s = streams_[static_cast<int>(stream)];
  if (after >= s.seq) return true;
  if (s.history.empty() || after + 1 < s.history.front().seq) return false;
  const std::size_t from = after + 1 - s.history.front().seq;
  std::unordered_map<std::string_view, std::size_t> last;  // key -> index of its latest update
  for (std::size_t i = from; i < s.history.size(); ++i) last[s.history[i].key] = i;
  std::vector<std::size_t> keep;
  keep.reserve(last.size());
  for (const auto& [key, i] : last) keep.push_back(i);
  std::sort(keep.begin(), keep.end());
  for (std::size_t i : keep) out.push_back(s.history[i]);
  return true;
}

std::uint64_t Hub::seq(Stream stream) const {
  std::lock_guard lock(mutex_);
  return streams_[static_cast<int>(stream)].seq;
}

void Hub::set_document(const std::string& name, std::string json) {
  auto text = std::make_shared<const std::string>(std::move(json));
  std::lock_guard lock(mutex_);
  documents_[name] = std::move(text);
}

Text Hub::document(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = documents_.find(name);
  return it == documents_.end() ? nullptr : it->second;
}

void Hub::add_equity(const EquityPoint& point) {
  std::lock_guard lock(mutex_);
  if (++equity_skipped_ < equity_stride_) return;
  equity_skipped_ = 0;
  equity_.push_back(point);
  if (equity_.size() >= kMaxEquityPoints) {  // keep every other point, and from now on half as many
    std::size_t j = 0;
    for (std::size_t i = 0; i < equity_.size(); i += 2) equity_[j++] = equity_[i];
    equity_.resize(j);
    equity_stride_ *= 2;
  }
}

std::vector<EquityPoint> Hub::equity() const {
  std::lock_guard lock(mutex_);
  return equity_;
}

void Hub::add_pair_points(const std::vector<std::pair<PairId, PairPoint>>& points) {
  std::lock_guard lock(mutex_);
  for (const auto& [pair, point] : points) {
    auto& ring = pair_points_[pair];
    ring.push_back(point);
    while (ring.size() > pair_history_) ring.pop_front();
  }
}

void Hub::add_pair_trade(PairId pair, const PairTrade& trade) {
  std::lock_guard lock(mutex_);
  auto& ring = pair_trades_[pair];
  ring.push_back(trade);
  while (ring.size() > kPairTrades) ring.pop_front();
}

std::vector<PairPoint> Hub::pair_points(PairId pair) const {
  std::lock_guard lock(mutex_);
  auto it = pair_points_.find(pair);
  if (it == pair_points_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<PairTrade> Hub::pair_trades(PairId pair) const {
  std::lock_guard lock(mutex_);
  auto it = pair_trades_.find(pair);
  if (it == pair_trades_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

void Hub::submit(ControlRequest request) {
  std::unique_lock lock(mutex_);
  if (controls_closed_) {
    const std::string reason = closed_reason_;
    lock.unlock();
    std::string body = R"({"ok":false,"error":)" + json_string(reason) + "}";
    request.done(409, std::move(body));
    return;
  }
  controls_.push_back(std::move(request));
}

std::vector<ControlRequest> Hub::take_controls() {
  std::lock_guard lock(mutex_);
  std::vector<ControlRequest> out;
  out.swap(controls_);
  return out;
}

void Hub::close_controls(std::string reason) {
  std::vector<ControlRequest> pending;
  {
    std::lock_guard lock(mutex_);
    controls_closed_ = true;
    closed_reason_ = reason;
    pending.swap(controls_);
  }
  for (auto& r : pending) r.done(409, R"({"ok":false,"error":)" + json_string(reason) + "}");
}

}  // namespace pairflow::ui
