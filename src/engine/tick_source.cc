#include "engine/tick_source.h"

#include <fmt/format.h>

#include <cstdlib>

namespace pairflow::engine {

CsvTickSource::CsvTickSource(const std::string& path, SymbolTable& symbols)
    : reader_(path), symbols_(symbols) {
  if (!reader_.next())
    throw UserError(
        fmt::format("{}:1: empty file, expected a header ts,symbol,price,size[,bid,ask]", path));
  CsvHeader header(reader_);
  ts_ = header.require("ts");
  symbol_ = header.require("symbol");
  price_ = header.require("price");
  size_ = header.require("size");
  bid_ = header.index("bid");
  ask_ = header.index("ask");
  if ((bid_ < 0) != (ask_ < 0)) {
    throw UserError(fmt::format("{}:1: has '{}' without '{}': quotes need both bid and ask", path,
                                bid_ < 0 ? "ask" : "bid", bid_ < 0 ? "bid" : "ask"));
  }
  bid_size_ = header.index("bid_size");
  ask_size_ = header.index("ask_size");
  if ((bid_size_ < 0) != (ask_size_ < 0) || (bid_size_ >= 0 && bid_ < 0)) {
    throw UserError(fmt::format(
        "{}:1: displayed sizes need bid_size and ask_size together, with bid and ask", path));
  }
  columns_ = header.names().size();
}

ReadResult CsvTickSource::next(Tick& tick, std::string& error) {
  if (!reader_.next()) return ReadResult::kEnd;
  const auto& f = reader_.fields();
  if (!reader_.row_error().empty()) {
    error = reader_.where(reader_.row_error());
    return ReadResult::kBadRow;
  }
  if (f.size() != columns_) {
    error = reader_.where(fmt::format("expected {} fields, got {}", columns_, f.size()));
    return ReadResult::kBadRow;
  }
  auto ts = parse_timestamp(f[ts_]);
  if (!ts) {
    error = reader_.where(ts.status().message());
    return ReadResult::kBadRow;
  }
  if (f[symbol_].empty()) {
    error = reader_.where("empty symbol");
    return ReadResult::kBadRow;
  }
  auto number = [&](int column, const char* name, double& out, bool optional) {
    if (optional && f[column].empty()) {
      out = kNaN;
      return true;
    }
    auto v = parse_double(f[column]);
    if (!v && v.status().code() == StatusCode::kInvalidArgument) {
      // A number, but not finite (NaN, inf): the pipeline rejects it as a bad price, size or
      // quote, not as a malformed row.
      out = std::strtod(std::string(f[column]).c_str(), nullptr);
      return true;
    }
    if (!v) {
      error = reader_.where(fmt::format("{}: {}", name, v.status().message()));
      return false;
    }
    out = *v;
    return true;
  };
  tick.ts = *ts;
  if (!number(price_, "price", tick.price, false) || !number(size_, "size", tick.size, false))
    return ReadResult::kBadRow;
  tick.bid = tick.ask = kNaN;
  if (bid_ >= 0 && (!number(bid_, "bid", tick.bid, true) || !number(ask_, "ask", tick.ask, true)))
    return ReadResult::kBadRow;
  tick.bid_size = tick.ask_size = kNaN;
  if (bid_size_ >= 0 && (!number(bid_size_, "bid_size", tick.bid_size, true) ||
                         !number(ask_size_, "ask_size", tick.ask_size, true)))
    return ReadResult::kBadRow;
  tick.symbol = symbols_.intern(f[symbol_]);
  return ReadResult::kTick;
}

}  // namespace pairflow::engine
