#include "base/buffered_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "base/status.h"

namespace pairflow {

BufferedFile::BufferedFile(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "w");
  if (!file_) throw UserError(fmt::format("{}: cannot write: {}", path_, std::strerror(errno)));
  buffer_.reserve(kFlushAt + 4096);
}

BufferedFile::~BufferedFile() {
  if (file_) std::fclose(file_);
}

void BufferedFile::flush() {
  if (buffer_.empty()) return;
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
    throw UserError(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
  buffer_.clear();
}

void BufferedFile::close() {
  flush();
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0)
    throw UserError(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
}

void write_text_file(const std::string& path, std::string_view text) {
  BufferedFile file(path);
  file.append(text);
  file.append("\n");
  file.close();
}

}  // namespace pairflow
