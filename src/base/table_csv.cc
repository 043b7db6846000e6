#include "base/table_csv.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "base/csv.h"
#include "base/status.h"
#include "base/time.h"

namespace pairflow {

namespace {

std::string lower_case(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool is_time_column_name(std::string_view name) {
  const std::string lower = lower_case(name);
  return lower == "ts" || lower == "time" || lower == "timestamp" || lower == "date" ||
         lower == "datetime";
}

namespace {

bool is_symbol_column_name(std::string_view name) {
  const std::string n = lower_case(name);
  return n == "symbol" || n == "ticker" || n == "sym" || n == "instrument" || n == "asset" ||
         n == "security";
}

// A value of a price column: missing (empty, NaN) is nullopt; anything else must be a finite
// number, positive under take_log.
std::optional<double> price_value(const CsvReader& reader, std::string_view text,
                                  std::string_view column, bool take_log) {
  if (text.empty() || text == "NaN" || text == "nan") return std::nullopt;
  auto v = parse_double(text);
  if (!v)
    throw UserError(reader.where(fmt::format("column '{}': {}", column, v.status().message())));
  double value = *v;
  if (!std::isfinite(value))
    throw UserError(reader.where(fmt::format("column '{}': not finite", column)));
  if (take_log) {
    if (value <= 0)
      throw UserError(reader.where(
          fmt::format("column '{}': --log needs positive values, got {}", column, value)));
    value = std::log(value);
  }
  return value;
}

// The long layout (see table_csv.h): `header` has a time column at `time_at` and a symbol column
// at `symbol_at`.
WideFile read_long(CsvReader& reader, const std::string& path, std::size_t time_at,
                   std::size_t symbol_at, bool take_log, const std::string& price_column) {
  const std::vector<std::string> header(reader.fields().begin(), reader.fields().end());
  std::size_t price_at = header.size();
  if (!price_column.empty()) {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == price_column) price_at = i;
    if (price_at == header.size())
      throw UserError(
          reader.where(fmt::format("--price-column '{}' is not in the header", price_column)));
  } else {
    std::vector<std::size_t> others;
    for (std::size_t i = 0; i < header.size(); ++i)
      if (i != time_at && i != symbol_at) others.push_back(i);
    if (others.size() == 1) price_at = others[0];
    for (const char* preferred : {"adj_close", "adj close", "adjclose", "adjusted_close", "close",
                                  "price", "last", "value"}) {
      if (price_at != header.size()) break;
      for (std::size_t i : others)
        if (lower_case(header[i]) == preferred) {
          price_at = i;
          break;
        }
    }
    if (price_at == header.size()) {
      std::string list;
      for (std::size_t i : others) list += (list.empty() ? "'" : ", '") + header[i] + "'";
      throw UserError(reader.where(fmt::format(
          "a long file (time '{}', symbol '{}'): which column holds the prices? none is named "
          "adj_close, close, price, last or value; choose one of {} with --price-column",
          header[time_at], header[symbol_at], list)));
    }
  }
  struct Cell {
    Timestamp ts;
    std::size_t symbol, line;
    double value;
  };
  std::vector<Cell> cells;
  std::map<std::string, std::size_t, std::less<>> index;
  WideFile out;
  const std::size_t width = header.size();
  while (reader.next()) {
    if (!reader.row_error().empty()) throw UserError(reader.where(reader.row_error()));
    const auto& f = reader.fields();
    if (f.size() != width)
      throw UserError(reader.where(fmt::format("expected {} fields, got {}", width, f.size())));
    auto ts = parse_timestamp(f[time_at]);
    if (!ts)
      throw UserError(reader.where(
          fmt::format("column '{}' (time): {}", header[time_at], ts.status().message())));
    if (f[symbol_at].empty())
      throw UserError(
          reader.where(fmt::format("column '{}' (symbol) is empty", header[symbol_at])));
    auto at = index.find(f[symbol_at]);
    if (at == index.end()) {
      at = index.emplace(std::string(f[symbol_at]), out.symbols.size()).first;
      out.symbols.emplace_back(f[symbol_at]);
    }
    auto v = price_value(reader, f[price_at], header[price_at], take_log);
    cells.push_back(
        {*ts, at->second, reader.line(), v ? *v : std::numeric_limits<double>::quiet_NaN()});
  }
  if (out.symbols.size() < 2)
    throw UserError(fmt::format("{}: a long file needs at least 2 symbols in column '{}', found {}",
                                path, header[symbol_at], out.symbols.size()));
  std::stable_sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.symbol < b.symbol;
  });
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    if (i > 0 && cells[i - 1].ts == c.ts && cells[i - 1].symbol == c.symbol)
      throw UserError(fmt::format(
          "{}:{}: symbol '{}' at {} again (first at line {}): one row per symbol and time", path,
          std::max(c.line, cells[i - 1].line), out.symbols[c.symbol], format_timestamp(c.ts),
          std::min(c.line, cells[i - 1].line)));
    if (out.rows.empty() || cells[i - 1].ts != c.ts)
      out.rows.emplace_back(out.symbols.size(), std::numeric_limits<double>::quiet_NaN());
    out.rows.back()[c.symbol] = c.value;
  }
  out.layout = fmt::format(
      "long: {} rows of {} symbols by '{}' pivoted to {} times; prices from column '{}'",
      cells.size(), out.symbols.size(), header[symbol_at], out.rows.size(), header[price_at]);
  return out;
}

}  // namespace

// Reads a wide file strictly: the first column is the time (named ts, time, timestamp, date or
// datetime, strictly increasing), every other column a distinct symbol. Empty fields and NaN
// are missing values. A long file (a time and a symbol column) is pivoted (read_long).
WideFile read_wide_csv(const std::string& path, bool take_log, const std::string& price_column) {
  CsvReader reader(path);
  if (!reader.next())
    throw UserError(fmt::format("{}:1: empty file, expected a header 'ts,SYM1,SYM2,...'", path));
  {
    const auto& h = reader.fields();
    std::size_t time_at = h.size(), symbol_at = h.size();
    for (std::size_t i = 0; i < h.size(); ++i) {
      if (time_at == h.size() && is_time_column_name(h[i])) time_at = i;
      if (symbol_at == h.size() && is_symbol_column_name(h[i])) symbol_at = i;
    }
    if (time_at < h.size() && symbol_at < h.size())
      return read_long(reader, path, time_at, symbol_at, take_log, price_column);
  }
  if (!price_column.empty())
    throw UserError(reader.where(
        "--price-column is for a long file (a time and a symbol column); this header has no "
        "symbol column (symbol, ticker, sym, instrument, asset, security)"));
  WideFile out;
  out.layout = "wide";
  const auto& header = reader.fields();
  if (!header.empty() && header[0].empty())
    throw UserError(reader.where(
        "the first column has no name (an unnamed index, as pandas writes one?): name it ts, "
        "time, timestamp, date or datetime"));
  if (!header.empty() && !is_time_column_name(header[0])) {
    throw UserError(reader.where(fmt::format(
        "the first column is '{}', expected the time column (ts, time, timestamp, date or "
        "datetime) followed by one column per symbol, or a long file with a time and a symbol "
        "column",
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
      if (auto v = price_value(reader, f[c], out.symbols[c - 1], take_log)) row[c - 1] = *v;
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
