// CsvReader: streaming, allocation-free (per row) reader of comma-separated files with line
// numbers.
//
// Reads the file in 1 MiB chunks; next() yields one row's fields as string_views that stay valid
// until the following next(). Blank lines are skipped; '\r\n' endings and double-quoted fields
// (without embedded newlines) are handled; bad quoting is reported by row_error(). Errors name
// "FILE:LINE"; a read error throws UserError rather than looking like the end of the file.
// Single-threaded.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace pairflow {

class CsvReader {
 public:
  // Throws UserError when the file cannot be opened.
  explicit CsvReader(const std::string& path);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Advances to the next non-blank row; false at end of file.
  bool next();
  const std::vector<std::string_view>& fields() const { return fields_; }
  // Non-empty when the row is malformed beyond splitting (bad quoting): callers reject the row.
  const std::string& row_error() const { return row_error_; }
  std::size_t line() const { return line_; }
  const std::string& path() const { return path_; }
  // "FILE:LINE: message", the form every input error takes.
  std::string where(std::string_view message) const;

 private:
  bool fill();
  void split(std::string_view line);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  std::size_t line_ = 0;
  std::string unquoted_;  // storage for fields that needed unquoting
  std::vector<std::string_view> fields_;
  std::string row_error_;
};

// Column positions by header name; throws UserError naming the file when a required one is missing.
class CsvHeader {
 public:
  CsvHeader(const CsvReader& reader);
  int index(std::string_view name) const;  // -1 when absent
  int require(std::string_view name) const;
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::string path_;
  std::vector<std::string> names_;
};

// Appends `text` as one CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma,
// a quote or a line break, so what the reader accepted as "BRK,B" is written back as one field.
void append_csv_field(std::string& out, std::string_view text);

// Strict number parsing of one field: the whole field must be a finite decimal number.
Result<double> parse_double(std::string_view text);

}  // namespace pairflow
