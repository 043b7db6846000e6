#include "base/csv.h"

#include <fast_float/fast_float.h>
#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace pairflow {

namespace {
constexpr std::size_t kChunk = 1 << 20;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}
}  // namespace

CsvReader::CsvReader(const std::string& path) : path_(path), buffer_(kChunk) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw UserError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
}

CsvReader::~CsvReader() {
  if (file_) std::fclose(file_);
}

std::string CsvReader::where(std::string_view message) const {
  return fmt::format("{}:{}: {}", path_, line_, message);
}

bool CsvReader::fill() {
  if (eof_) return false;
  // Keep the unread tail, grow when a single line exceeds the buffer.
  std::size_t tail = end_ - begin_;
  if (begin_ > 0) std::memmove(buffer_.data(), buffer_.data() + begin_, tail);
  begin_ = 0;
  end_ = tail;
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  std::size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
  end_ += got;
  if (got == 0) {
    if (std::ferror(file_)) {
      // A read error must not look like the end of the input.
      throw UserError(fmt::format("{}:{}: read error: {}", path_, line_ + 1, std::strerror(errno)));
    }
    eof_ = true;
  }
  return got > 0;
}

bool CsvReader::next() {
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    std::string_view line;
    if (nl) {
      line = std::string_view(start, static_cast<const char*>(nl) - start);
      begin_ += line.size() + 1;
    } else if (fill()) {
      continue;
    } else if (begin_ < end_) {
      line = std::string_view(buffer_.data() + begin_, end_ - begin_);  // last line, no newline
      begin_ = end_;
    } else {
      return false;
    }
    ++line_;
    if (trim(line).empty()) continue;
    split(line);
    return true;
  }
}

void CsvReader::split(std::string_view line) {
  fields_.clear();
  unquoted_.clear();
  row_error_.clear();
  if (line.find('"') != std::string_view::npos) unquoted_.reserve(line.size());
  std::size_t pos = 0;
  for (;;) {
    std::size_t comma;
    if (pos < line.size() && line[pos] == '"') {
      // Quoted field: "" inside is a literal quote.
      std::size_t start = unquoted_.size();
      std::size_t i = pos + 1;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            unquoted_.push_back('"');
            i += 2;
            continue;
          }
          break;
        }
        unquoted_.push_back(line[i++]);
      }
      fields_.emplace_back(unquoted_.data() + start, unquoted_.size() - start);
      if (i >= line.size()) {
        row_error_ = "unterminated quoted field";
      }
      comma = line.find(',', i);
      std::string_view rest =
          trim(line.substr(std::min(i + 1, line.size()),
                           comma == std::string_view::npos ? line.npos : comma - i - 1));
      if (row_error_.empty() && !rest.empty()) row_error_ = "text after a closing quote";
    } else {
      comma = line.find(',', pos);
      fields_.push_back(
          trim(line.substr(pos, comma == std::string_view::npos ? line.npos : comma - pos)));
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
}

CsvHeader::CsvHeader(const CsvReader& reader) : path_(reader.path()) {
  for (std::string_view f : reader.fields()) names_.emplace_back(f);
}

int CsvHeader::index(std::string_view name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<int>(i);
  return -1;
}

int CsvHeader::require(std::string_view name) const {
  int i = index(name);
  if (i < 0) {
    std::string have;
    for (const auto& n : names_) have += (have.empty() ? "" : ",") + n;
    throw UserError(fmt::format("{}:1: missing column '{}' (header is '{}')", path_, name, have));
  }
  return i;
}

void append_csv_field(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(text);
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

Result<double> parse_double(std::string_view text) {
  double value = 0;
  auto res = fast_float::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || res.ec != std::errc() || res.ptr != text.data() + text.size()) {
    return Status(StatusCode::kParseError, fmt::format("'{}' is not a number", text));
  }
  if (!std::isfinite(value)) {
    return Status(StatusCode::kInvalidArgument, fmt::format("'{}' is not finite", text));
  }
  return value;
}

}  // namespace pairflow
