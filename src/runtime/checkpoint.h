// CheckpointStore: a job's input position and state, saved atomically in a local SQLite file.
//
// One row per checkpoint key (job name + consumer group), replaced in a single transaction, with
// the WAL journal and synchronous=FULL so a saved checkpoint survives kill -9 and power loss. The
// runner saves only after the outputs of every message before the position were delivered.
// Lifecycle: open (creates the file and table), load() at start, save() at each checkpoint.
// Single-threaded (one runner).
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
  // Throws UserError naming the file when it cannot be opened or is not a checkpoint database.
  explicit CheckpointStore(const std::string& path);
  ~CheckpointStore();
  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  std::optional<Checkpoint> load(const std::string& key);
  void save(const std::string& key, const Checkpoint& checkpoint);

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

std::string positions_to_json(const Positions& positions);
// Throws UserError on malformed text.
Positions positions_from_json(const std::string& json);

}  // namespace pairflow::runtime
