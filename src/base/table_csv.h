// Table files for the statistics commands: named numeric columns (`pairflow stats`) and wide price
// files, one column per symbol (`pairflow screen`). Both are strict: a problem is a UserError
// naming "FILE:LINE" (bad quoting, a field count that differs from the header, a value that is not
// a finite number, a non-positive value under `take_log`), never a guess. Any thread; each call
// reads its file on the calling thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pairflow {

// Columns of a CSV file by name; every value must be a finite number (and positive with take_log).
// With no names, every column but a leading time column (ts, date, time, timestamp).
class ColumnFile {
 public:
  ColumnFile(const std::string& path, const std::vector<std::string>& wanted, bool take_log);
  const std::vector<double>& column(std::size_t i) const { return columns_[i]; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::vector<std::vector<double>> columns_;
};

// A wide file `ts,SYM1,SYM2,...`: the first column is the time (named ts, time, timestamp, date or
// datetime, strictly increasing), every other column a distinct symbol with at least two symbols.
// Empty fields and NaN are missing values (NaN in `rows`).
//
// Or a long ("tidy") file, one row per symbol and time, as databases and downloads stack them: a
// time column, a symbol column (named symbol, ticker, sym, instrument, asset or security) and the
// prices, from `price_column` or else the first of adj_close / adj close / adjclose /
// adjusted_close, close, price, last, value that the header has (or its only other column). Rows
// may come in any order (by symbol, then time, typically); they are pivoted to one row per time
// (the union of every symbol's times; a symbol without a row at a time is missing there). Two rows
// for one symbol and time are an error naming both lines. `layout` says which reading was used.
struct WideFile {
  std::vector<std::string> symbols;
  std::vector<std::vector<double>> rows;  // one value per symbol
  std::string layout;                     // "wide", or "long: ... prices from column 'close'"
};
WideFile read_wide_csv(const std::string& path, bool take_log,
                       const std::string& price_column = "");

bool is_time_column_name(std::string_view name);

}  // namespace pairflow
