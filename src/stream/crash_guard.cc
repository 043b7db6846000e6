#include "stream/crash_guard.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "base/status.h"

namespace pairflow::stream {
namespace {

constexpr const char* kMagic = "pairflow-inflight";

// "pairflow-inflight PID\n" then "idle\n", or "batch\n" / "single ATTEMPTS\n" followed by
// "P FIRST LAST\n" lines, then "end\n". Anything after "end" is stale bytes of a longer record.
std::optional<CrashGuard::Record> parse(const std::string& text) {
  std::istringstream in(text);
  std::string magic, kind;
  long pid = 0;
  if (!(in >> magic >> pid) || magic != kMagic || !(in >> kind) || kind == "idle") {
    return std::nullopt;
  }
  CrashGuard::Record r;
  if (kind == "single") {
    r.single = true;
    if (!(in >> r.attempts)) return std::nullopt;
  } else if (kind != "batch") {
    return std::nullopt;
  }
  for (std::string word; in >> word && word != "end";) {
    CrashGuard::Range range;
    try {
      range.partition = std::stoi(word);
    } catch (...) {
      return std::nullopt;
    }
    if (!(in >> range.first >> range.last)) return std::nullopt;
    r.ranges.push_back(range);
  }
  if (r.ranges.empty()) return std::nullopt;
  return r;
}

}  // namespace

CrashGuard::CrashGuard(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw UserError(fmt::format("{}: cannot open: {}", path_, std::strerror(errno)));
  std::string text(4096, '\0');
  const ssize_t n = ::pread(fd_, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    std::istringstream in(text);
    std::string magic;
    long pid = 0;
    in >> magic >> pid;
    ::close(fd_);
    fd_ = -1;
    throw UserError(fmt::format(
        "{}: the checkpoint is in use by another running instance{} (give each instance its own "
        "--checkpoint FILE, or --instance ID)",
        path_, pid > 0 ? fmt::format(" (pid {})", pid) : ""));
  }
  // The record stays in the file (now under this pid) until the first mark(): a run that dies
  // again before it gets that far leaves the same record for the next one.
  left_behind_ = parse(text);
  if (left_behind_) {
    mark(*left_behind_);
  } else {
    clear();
  }
}

CrashGuard::~CrashGuard() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

void CrashGuard::write(const std::string& text) {
  if (::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    throw UserError(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
}

void CrashGuard::mark(const Record& record) {
  buffer_ = fmt::format("{} {}\n", kMagic, ::getpid());
  buffer_ += record.single ? fmt::format("single {}\n", record.attempts) : "batch\n";
  for (const Range& r : record.ranges)
    buffer_ += fmt::format("{} {} {}\n", r.partition, r.first, r.last);
  buffer_ += "end\n";
  write(buffer_);
}

void CrashGuard::clear() { write(fmt::format("{} {}\nidle\nend\n", kMagic, ::getpid())); }

}  // namespace pairflow::stream
