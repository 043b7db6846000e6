#include "base/table_csv.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <limits>
#include <map>

#include "base/csv.h"
#include "base/status.h"
#include "base/time.h"

namespace pairflow {

bool is_time_column_name(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "ts" || lower == "time" || lower == "timestamp" || lower == "date" ||
         lower == "datetime";
}

// Reads a wide file strictly: the first column is the time (named ts, time, timestamp, date or
// datetime, strictly increasing), every other column a distinct symbol. Empty fields and NaN
// are missing values.
WideFile read_wide_csv(const std::string& path, bool take_log) {
  CsvReader reader(path);
  if (!reader.next())
    throw UserError(fmt::format("{}:1: empty file, expected a header 'ts,SYM1,SYM2,...'", path));
  WideFile out;
  const auto& header = reader.fields();
  if (!header.empty() && !is_time_column_name(header[0])) {
    throw UserError(reader.where(fmt::format(
        "the first column is '{}', expected the time column (ts, time, timestamp, date or "
        "datetime) followed by one column per symbol",
        header[0])));
  }
  if (header.size() < 3)
    throw UserError(reader.where("expected a header 'ts,SYM1,SYM2,...' with at least 2 symbols"));
  std::map<std::string_view, std::size_t> seen;
  for (std::size_t i = 1; i < header.size(); ++i) {
    if (header[i].empty())
      throw UserError(reader.where(fmt::format("column {} has no name", i + 1)));
    out.symbols.emplace_back(header[i]);
  }
  for (std::size_t i = 0; i < out.symbols.size(); ++i) {
    auto [at, fresh] = seen.emplace(out.symbols[i], i);
    if (!fresh)
      throw UserError(reader.where(fmt::format("symbol '{}' names columns {} and {}",
                                               out.symbols[i], at->second + 2, i + 2)));
  }
  const std::size_t width = header.size();
  Timestamp previous = 0;
  while (reader.next()) {
    if (!reader.row_error().empty()) throw UserError(reader.where(reader.row_error()));
    const auto& f = reader.fields();
    if (f.size() != width)
      throw UserError(reader.where(fmt::format("expected {} fields, got {}", width, f.size())));
    auto ts = parse_timestamp(f[0]);
    if (!ts)
      throw UserError(reader.where(fmt::format("column 1 (time): {}", ts.status().message())));
    if (!out.rows.empty() && *ts <= previous) {
      throw UserError(reader.where(
          fmt::format("time {} is {} the previous row's {}: rows must be in increasing time order",
                      format_timestamp(*ts), *ts == previous ? "equal to" : "before",
                      format_timestamp(previous))));
    }
    previous = *ts;
    std::vector<double> row(width - 1, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t c = 1; c < width; ++c) {
      if (f[c].empty() || f[c] == "NaN" || f[c] == "nan") continue;
      auto v = parse_double(f[c]);
      if (!v)
        throw UserError(
            reader.where(fmt::format("column '{}': {}", out.symbols[c - 1], v.status().message())));
      double value = *v;
      if (!std::isfinite(value))
        throw UserError(reader.where(fmt::format("column '{}': not finite", out.symbols[c - 1])));
      if (take_log) {
        if (value <= 0)
          throw UserError(reader.where(fmt::format(
              "column '{}': --log needs positive values, got {}", out.symbols[c - 1], value)));
        value = std::log(value);
      }
      row[c - 1] = value;
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

ColumnFile::ColumnFile(const std::string& path, const std::vector<std::string>& wanted,
                       bool take_log) {
  CsvReader reader(path);
  if (!reader.next()) throw UserError(fmt::format("{}:1: empty file", path));
  CsvHeader header(reader);
  names_ = wanted.empty() ? std::vector<std::string>() : wanted;
  if (names_.empty()) {
    // All columns but a leading timestamp column.
    for (std::size_t i = 0; i < header.names().size(); ++i) {
      const auto& n = header.names()[i];
      if (i == 0 && is_time_column_name(n)) continue;
      names_.push_back(n);
    }
  }
  std::vector<int> index;
  for (const auto& n : names_) index.push_back(header.require(n));
  columns_.resize(names_.size());
  const std::size_t width = header.names().size();
  while (reader.next()) {
    if (!reader.row_error().empty()) throw UserError(reader.where(reader.row_error()));
    const auto& f = reader.fields();
    if (f.size() != width)
      throw UserError(reader.where(fmt::format("expected {} fields, got {}", width, f.size())));
    for (std::size_t c = 0; c < index.size(); ++c) {
      auto v = parse_double(f[index[c]]);
      if (!v)
        throw UserError(
            reader.where(fmt::format("column '{}': {}", names_[c], v.status().message())));
      double value = *v;
      if (take_log) {
        if (value <= 0)
          throw UserError(reader.where(
              fmt::format("column '{}': --log needs positive values, got {}", names_[c], value)));
        value = std::log(value);
      }
      columns_[c].push_back(value);
    }
  }
}

}  // namespace pairflow
