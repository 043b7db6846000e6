// BufferedFile: an output file written through a 1 MiB buffer, where every failure (cannot open,
// a short write, a full disk noticed at close) is a UserError naming the file, never a silently
// truncated output. Single-threaded; close() must be called to learn whether the data landed (the
// destructor closes quietly).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace pairflow {

class BufferedFile {
 public:
  // Throws UserError when `path` cannot be opened for writing.
  explicit BufferedFile(std::string path);
  ~BufferedFile();
  BufferedFile(const BufferedFile&) = delete;
  BufferedFile& operator=(const BufferedFile&) = delete;

  // The buffer to append to; flushed to the file once it passes 1 MiB (at the next append()).
  std::string& buffer() { return buffer_; }
  void append(std::string_view text) {
    buffer_.append(text);
    if (buffer_.size() > kFlushAt) flush();
  }
  // Call after appending through buffer() directly.
  void maybe_flush() {
    if (buffer_.size() > kFlushAt) flush();
  }
  void flush();
  // Writes the rest and closes; throws UserError when anything did not reach the file.
  void close();
  const std::string& path() const { return path_; }

 private:
  static constexpr std::size_t kFlushAt = 1 << 20;
  std::string path_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
};

// `text` and a newline into `path`, all or a UserError.
void write_text_file(const std::string& path, std::string_view text);

}  // namespace pairflow
