// CrashGuard: which messages a job is processing right now, kept in a small file beside its
// checkpoint, so that a message that kills the process (a segfault in native code, an abort, the
// OOM killer) is found when the job restarts and goes to the DLQ instead of crashing every restart
// and blocking its partition for good. The file is also the checkpoint's lock: a second process
// that opens the same guard fails with a message naming the first one's pid.
//
// Cost: two pwrite() calls per batch (no fsync: the data must survive the process, not the
// machine, and the page cache does that).
//
// Lifecycle: open at start (left_behind() tells what a crashed run was doing), mark() before a
// batch or message, clear() after; the lock goes with the object. Single-threaded (the runner).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pairflow::stream {

class CrashGuard {
 public:
  struct Range {
    std::int32_t partition = 0;
    std::int64_t first = 0, last = 0;  // offsets, inclusive
  };
  // What was in hand: a batch (its offset range per partition), or one message (`single`) with
  // the number of attempts at it so far, this one included.
  struct Record {
    std::vector<Range> ranges;
    bool single = false;
    int attempts = 0;
  };

  // Throws UserError when the file cannot be opened or another process holds it.
  explicit CrashGuard(std::string path);
  ~CrashGuard();
  CrashGuard(const CrashGuard&) = delete;
  CrashGuard& operator=(const CrashGuard&) = delete;

  // What the previous run was processing when it died; nullopt after a clean stop.
  const std::optional<Record>& left_behind() const { return left_behind_; }
  void mark(const Record& record);
  void clear();
  const std::string& path() const { return path_; }

 private:
  void write(const std::string& text);

  std::string path_;
  int fd_ = -1;
  std::optional<Record> left_behind_;
  std::string buffer_;
};

}  // namespace pairflow::stream
