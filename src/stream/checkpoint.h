// Checkpoint stores: a job's input position and state, saved atomically.
//
// SqliteCheckpointStore: one row per checkpoint key (job name + consumer group) in a local file,
// replaced in a single transaction, WAL journal and synchronous=FULL, so a saved checkpoint
// survives kill -9 and power loss. KafkaCheckpointStore (kafka_transport.h): one message per save
// on a checkpoint topic, so an instance restarted on another machine finds its state. The runner
// saves only after the outputs of every message before the position were delivered.
// Lifecycle: open, load() at start, save() at each checkpoint. Single-threaded (one runner).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stream/transport.h"

struct sqlite3;

namespace pairflow::stream {

// Where a checkpoint's positions point, so that a restart can tell whether the log it resumes is
// still the log it left (a Kafka cluster or topic recreated under the same names would otherwise
// be skipped up to the saved offsets, silently). Per input partition (the runner's partition
// number): the log's start and end offsets when the checkpoint was saved, and a fingerprint of the
// last message before the position.
struct PartitionOrigin {
  std::string topic;
  std::int32_t partition = 0;  // the partition within `topic`
  std::int64_t log_start = -1, log_end = -1;
  std::int64_t last_offset = -1;       // offset of the fingerprinted message (position - 1)
  std::uint32_t last_fingerprint = 0;  // fingerprint() of that message; 0 = none
};
struct Origin {
  std::string cluster;  // Kafka cluster id; empty for inputs that are not a log (stdin)
  std::map<std::int32_t, PartitionOrigin> partitions;
};

struct Checkpoint {
  Positions positions;         // next offset to process, per partition
  std::string state;           // the job's snapshot_state() JSON
  std::uint64_t sequence = 0;  // increases by one per save
  Origin origin;               // the log the positions belong to (empty in old checkpoints)
};

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // The last checkpoint saved under `key`, if any. Throws UserError when the store is unreadable.
  virtual std::optional<Checkpoint> load(const std::string& key) = 0;
  // Durable when it returns; throws UserError otherwise.
  virtual void save(const std::string& key, const Checkpoint& checkpoint) = 0;
  // Forgets the checkpoint under `key` (`--reset-checkpoint`): load() then finds none.
  virtual void reset(const std::string& key) = 0;
  // Where the checkpoint lives, for messages ("FILE.db", "kafka topic T").
  virtual std::string describe() const = 0;
};

class SqliteCheckpointStore : public CheckpointStore {
 public:
  // Throws UserError naming the file when it cannot be opened or is not a checkpoint database.
  explicit SqliteCheckpointStore(const std::string& path);
  ~SqliteCheckpointStore() override;
  SqliteCheckpointStore(const SqliteCheckpointStore&) = delete;
  SqliteCheckpointStore& operator=(const SqliteCheckpointStore&) = delete;

  std::optional<Checkpoint> load(const std::string& key) override;
  void save(const std::string& key, const Checkpoint& checkpoint) override;
  void reset(const std::string& key) override;
  std::string describe() const override { return path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// What `--offset-reset` does when a checkpoint does not match its log: stop with an error (the
// default), or follow Kafka's auto.offset.reset for the partitions that do not match.
enum class OffsetReset { kFail, kEarliest, kLatest };

// One way a checkpoint's partition does not match the log it is about to read.
struct OriginMismatch {
  std::int32_t partition = 0;  // the runner's partition number
  std::string what;            // "ticks[0]: offset 3000 is beyond the log end 2000"
  bool log_replaced = false;   // another cluster, or the topic recreated: the job state is stale
  bool partition_gone = false;
  std::int64_t log_start = -1, log_end = -1;
};
// Compares a checkpoint with the log `source` reads now: the cluster id, each partition's
// existence, the saved position against the current log start and end, and the fingerprint of the
// last message before the position. Empty when everything matches (or the source is not a log).
std::vector<OriginMismatch> check_origin(const Checkpoint& checkpoint, Source& source);

std::string positions_to_json(const Positions& positions);
std::string origin_to_json(const Origin& origin);
// Throws UserError on malformed text; "" or "{}" is an empty origin.
Origin origin_from_json(std::string_view json);
// {"positions":{...},"state":...,"sequence":N,"origin":{...}}: a checkpoint as one message (state
// is JSON text).
std::string checkpoint_to_json(const Checkpoint& checkpoint);
// Throws UserError on malformed text.
Checkpoint checkpoint_from_json(std::string_view json);
// Throws UserError on malformed text.
Positions positions_from_json(const std::string& json);

}  // namespace pairflow::stream
