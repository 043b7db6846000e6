// Tick sources: where the pipeline's ticks come from.
//
// CsvTickSource reads `ts,symbol,price,size[,bid,ask[,bid_size,ask_size]]` (columns found by header
// name, any order; extra columns ignored; the displayed sizes limit what the paper broker fills). A row that cannot be parsed is reported, with "FILE:LINE: problem", and
// skipped by the caller's policy; it never stops the reader. Value checks (price > 0, bid <= ask,
// time order) are the pipeline's, so every source gets them. MarketGenerator (sim/market.h) is the
// other source. Sources are pulled by one thread; the pipeline loop is a template over the source
// type, so there is no virtual call per tick.
#pragma once

#include <string>

#include "base/csv.h"
#include "base/symbols.h"
#include "model/messages.h"

namespace pairflow::engine {

enum class ReadResult { kTick, kBadRow, kEnd };

class CsvTickSource {
 public:
  // Throws UserError when the file cannot be opened or lacks a required column.
  CsvTickSource(const std::string& path, SymbolTable& symbols);

  // On kBadRow, `error` holds "FILE:LINE: problem".
  ReadResult next(Tick& tick, std::string& error);
  const CsvReader& reader() const { return reader_; }

 private:
  CsvReader reader_;
  SymbolTable& symbols_;
  int ts_, symbol_, price_, size_, bid_ = -1, ask_ = -1, bid_size_ = -1, ask_size_ = -1;
  std::size_t columns_ = 0;
};

}  // namespace pairflow::engine
