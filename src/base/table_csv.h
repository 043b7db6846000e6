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
struct WideFile {
  std::vector<std::string> symbols;
  std::vector<std::vector<double>> rows;  // one value per symbol
};
WideFile read_wide_csv(const std::string& path, bool take_log);

bool is_time_column_name(std::string_view name);

}  // namespace pairflow
