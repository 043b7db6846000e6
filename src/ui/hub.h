// Hub: what the dashboard shows, as the pipeline last published it, between the pipeline's thread
// (the only writer) and the server's thread (readers). The server never touches the engine: it
// reads the hub, and sends operator commands back through the hub's control queue, which the
// pipeline's thread drains between ticks.
//
// Streams (pnl, positions, pairs, signals, orders, executions, screener, risk, jobs) carry updates
// with a per-stream sequence number that grows by one per update. Each stream keeps the last
// `history` updates, for clients that resume after a reconnect without a gap, and a snapshot: the
// latest value per key (event streams - signals, executions - keep their last `history` events). An
// update with null data removes its key from the snapshot (a closed order, a flat position, a
// retired pair). Conflatable streams (pnl, pairs, screener) may be delivered to a slow client as
// only the latest value per key.
//
// REST documents (status, pnl, pairs, ...) are JSON texts the pipeline republishes as they change;
// the equity curve and each pair's recent bars and trades are kept here too.
//
// Thread-safety: every method may be called from any thread; one mutex, held briefly (texts are
// shared, never copied under it).
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/time.h"
#include "model/messages.h"

namespace pairflow::ui {

enum class Stream : std::uint8_t {
  kPnl,
  kPositions,
  kPairs,
  kSignals,
  kOrders,
  kExecutions,
  kScreener,
  kRisk,
  kJobs,
  kCount
};
constexpr int kStreams = static_cast<int>(Stream::kCount);
const char* stream_name(Stream stream);
bool parse_stream(std::string_view text, Stream& stream);
bool conflatable(Stream stream);

using Text = std::shared_ptr<const std::string>;

struct Update {
  std::uint64_t seq = 0;
  std::string key;
  Text data;  // JSON ("null": the key is gone)
  Text
      message;  // the whole WebSocket message: {"type":"update","stream":..,"seq":..,"key":..,"data":..}
};

// An operator's command from the server, answered by the pipeline's thread (or by the hub when
// nobody can: the run is over, or the answer took too long).
struct ControlRequest {
  std::string path;  // "/api/control" or "/api/pairs/ID/control"
  std::string body;  // JSON
  std::string who;   // the token's name, or its role
  std::string role;
  std::string remote;
  // Called once, on the thread that answers: the HTTP status and the JSON body.
  std::function<void(int status, std::string body)> done;
};

struct EquityPoint {
  Timestamp ts = 0;
  double equity = 0, drawdown = 0;
};

struct PairPoint {
  Timestamp ts = 0;
  double z = 0, y = 0, x = 0;  // z of the spread; the legs' last prices
};

struct PairTrade {
  Timestamp ts = 0;
  SignalAction action = SignalAction::kHold;
  double z = 0;
};

// `head` + the JSON texts joined by commas + `tail` (e.g. R"({"executions":[)", items, "]}").
template <typename Texts>
std::string json_list(std::string_view head, const Texts& items, std::string_view tail) {
  std::string out(head);
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += ',';
    first = false;
    out += item;
  }
  out += tail;
  return out;
}

class Hub {
 public:
  explicit Hub(std::size_t history = 4096, std::size_t pair_history = 500);

  // Pipeline's thread: appends an update (data = JSON, or "null" to remove the key).
  void publish(Stream stream, std::string key, std::string data);
  // Pipeline's thread: after a batch of publishes; wakes the listener when anything changed.
  void commit();
  // The server: called (on the committing thread) after each commit with new updates.
  void set_listener(std::function<void()> listener);

  struct Snapshot {
    std::uint64_t seq = 0;
    std::vector<std::pair<std::string, Text>> items;  // key, data
  };
  Snapshot snapshot(Stream stream) const;
  // Updates after `after` (at most `limit`), in order. False when the history no longer holds
  // the update right after `after` (the caller needs a snapshot).
  bool since(Stream stream, std::uint64_t after, std::size_t limit, std::vector<Update>& out) const;
  // The latest update per key among those after `after` (conflation), in seq order. False as above.
  bool latest_since(Stream stream, std::uint64_t after, std::vector<Update>& out) const;
  std::uint64_t seq(Stream stream) const;

  // REST documents by name ("status", "pnl", ...).
  void set_document(const std::string& name, std::string json);
  Text document(const std::string& name) const;

  void add_equity(const EquityPoint& point);  // decimated past 20,000 points
  std::vector<EquityPoint> equity() const;
  void add_pair_points(const std::vector<std::pair<PairId, PairPoint>>& points);
  void add_pair_trade(PairId pair, const PairTrade& trade);
  std::vector<PairPoint> pair_points(PairId pair) const;
  std::vector<PairTrade> pair_trades(PairId pair) const;

  // Controls: the server submits; the pipeline's thread takes them and calls `done`.
  void submit(ControlRequest request);
  std::vector<ControlRequest> take_controls();
  // From now on, controls are answered at once with 409 and `reason` (the run is over).
  void close_controls(std::string reason);

 private:
  struct StreamState {
    std::uint64_t seq = 0;
    std::deque<Update> history;
    std::map<std::string, Update> latest;  // keyed streams' snapshot
  };

  std::size_t history_, pair_history_;
  mutable std::mutex mutex_;
  std::array<StreamState, kStreams> streams_;
  bool dirty_ = false;
  std::function<void()> listener_;
  std::map<std::string, Text> documents_;
  std::vector<EquityPoint> equity_;
  std::size_t equity_stride_ = 1, equity_skipped_ = 0;
  std::unordered_map<PairId, std::deque<PairPoint>> pair_points_;
  std::unordered_map<PairId, std::deque<PairTrade>> pair_trades_;
  std::vector<ControlRequest> controls_;
  bool controls_closed_ = false;
  std::string closed_reason_;
};

}  // namespace pairflow::ui
