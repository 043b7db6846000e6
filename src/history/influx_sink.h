// InfluxSink: pairflow messages as InfluxDB line protocol, POSTed over HTTP to InfluxDB 1.x
// (`/write?db=...`), 2.x (`/api/v2/write?org=...&bucket=...`, with a token), VictoriaMetrics or
// QuestDB (`/write`), in batches, with a bounded on-disk spool for when the server is away.
//
// Batching: a batch is posted when it holds `batch_points` points or its first point is
// `batch_interval` old (gzip-compressed unless turned off). A batch that cannot be delivered
// (connection refused, timeout, 5xx, 429) goes to the spool directory as one file, fsynced, and is
// replayed in order, with exponential back-off, when the server answers again; while the spool
// holds anything new batches queue behind it, so order is kept. When the spool is full the sink is
// *blocked*: the caller (the `influx` job) stops consuming until there is room; nothing is dropped.
// A batch the server refuses as bad data (4xx other than 408/429) is moved to `rejected/` in the
// spool directory and counted, never retried forever and never lost silently.
//
// States, visible in stats(): connected (the last post succeeded), spooling (the server is away and
// batches are kept on disk), blocked (the spool is full). Lifecycle: construct (opens the spool and
// counts what a previous run left), add() per message, pump() regularly, make_durable() before the
// input position is committed. One thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace pairflow::history {

struct InfluxOptions {
  std::string url;    // http://HOST:PORT/PATH?QUERY, e.g. http://127.0.0.1:8428/write
  std::string token;  // InfluxDB 2.x: sent as "Authorization: Token TOKEN"
  std::size_t batch_points = 10000;
  std::chrono::milliseconds batch_interval{1000};
  bool gzip = true;
  std::string spool_dir;                       // required
  std::uint64_t spool_max_bytes = 256u << 20;  // beyond this the sink blocks
  std::chrono::milliseconds timeout{5000};     // connect, send, receive
  std::chrono::milliseconds backoff_min{100}, backoff_max{30000};
  std::size_t max_string = 4096;
};

enum class SinkState : std::uint8_t { kConnected, kSpooling, kBlocked };
const char* sink_state_name(SinkState state);

struct InfluxStats {
  SinkState state = SinkState::kConnected;
  std::uint64_t points = 0;       // accepted into batches
  std::uint64_t points_sent = 0;  // acknowledged by the server (2xx)
  std::uint64_t batches_sent = 0;
  std::uint64_t batches_spooled = 0;   // written to the spool
  std::uint64_t batches_replayed = 0;  // sent from the spool
  std::uint64_t batches_rejected = 0;  // refused by the server as bad data (kept in rejected/)
  std::uint64_t post_failures = 0;     // posts that failed (and were spooled or retried)
  std::uint64_t spool_files = 0, spool_bytes = 0;
  std::uint64_t rejects = 0;  // messages that could not become points
  std::string last_error;
};

class InfluxSink {
 public:
  // Throws UserError for a bad URL or a spool directory that cannot be created.
  explicit InfluxSink(InfluxOptions options);
  ~InfluxSink();
  InfluxSink(const InfluxSink&) = delete;
  InfluxSink& operator=(const InfluxSink&) = delete;

  // One message into the current batch; not OK (and counted) when it cannot be a point.
  Status add(std::string_view topic, std::string_view key, std::string_view json, Timestamp ts);
  // Posts or spools a due batch and replays the spool when the back-off allows.
  void pump();
  // True while a full batch has nowhere to go (spool full, server away): stop consuming.
  bool blocked() const { return held_.has_value(); }
  // Everything added so far is on the server or in the spool (a checkpoint may follow). Throws
  // UserError when neither is possible (spool full and server away).
  void make_durable();
  const InfluxStats& stats() const { return stats_; }

 private:
  struct Url {
    std::string host, port, target;
  };
  struct Connection;
  enum class Post { kOk, kRetry, kRejected };
  Post post(const std::string& body, std::string& error);
  void close_batch();
  bool deliver(std::string body);  // post, else spool; false when neither (held)
  bool spool(const std::string& body);
  void replay_spool();
  void update_state();

  InfluxOptions options_;
  Url url_;
  std::unique_ptr<Connection> connection_;
  std::string batch_;
  std::size_t batch_count_ = 0;
  std::chrono::steady_clock::time_point batch_started_;
  std::optional<std::string> held_;  // a closed batch waiting for room
  std::uint64_t held_points_ = 0, body_points_ = 0;
  std::vector<std::string> spool_files_;  // oldest first
  std::uint64_t next_spool_ = 0;
  std::chrono::steady_clock::time_point next_try_{};
  std::chrono::milliseconds backoff_{0};
  InfluxStats stats_;
};

}  // namespace pairflow::history
