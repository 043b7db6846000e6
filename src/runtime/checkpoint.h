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
#include <optional>
#include <string>

#include "runtime/transport.h"

struct sqlite3;

namespace pairflow::runtime {

struct Checkpoint {
  Positions positions;         // next offset to process, per partition
  std::string state;           // the job's snapshot_state() JSON
  std::uint64_t sequence = 0;  // increases by one per save
};

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // The last checkpoint saved under `key`, if any. Throws UserError when the store is unreadable.
  virtual std::optional<Checkpoint> load(const std::string& key) = 0;
  // Durable when it returns; throws UserError otherwise.
  virtual void save(const std::string& key, const Checkpoint& checkpoint) = 0;
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

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

std::string positions_to_json(const Positions& positions);
// {"positions":{...},"state":...,"sequence":N}: a checkpoint as one message (state is JSON text).
std::string checkpoint_to_json(const Checkpoint& checkpoint);
// Throws UserError on malformed text.
Checkpoint checkpoint_from_json(std::string_view json);
// Throws UserError on malformed text.
Positions positions_from_json(const std::string& json);

}  // namespace pairflow::runtime
