// Blocks: how the history store keeps rows. A block is up to kBlockRows rows of one series (one
// topic and key), in (ts, seq) order, column by column, stored as one SQLite row (a BLOB) — so
// writing a row costs a few vector appends instead of a B-tree insert, and reading a symbol-day is
// a handful of SQLite rows. Internal to history/.
//
// Encoding, version 2 (varints are LEB128; signed values zigzag-encoded; reals 8 bytes little-
// endian):
//   u8 version | varint rows | varint columns present
//   ts: deltas from 0 | seq: values | arrival: deltas from 0
//   per present column: varint column index in the table | u8 mode, then
//     mode 2 (constant: every row holds the same value, e.g. the symbol): u8 tag, one payload
//     mode 1 (every row present with one tag): u8 tag, a payload per row
//     mode 0: u8 tag per row, then the payloads of the present cells
//   payloads: int varint, real 8 bytes, text varint length + bytes
// Tags: 0 absent (null), 1 int, 2 real, 3 text (text, JSON, integers beyond int64 as digits).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"

namespace pairflow::history::detail {

inline constexpr std::size_t kBlockRows = 4096;
// A series' last block takes the rows of later commits until it holds this many.
inline constexpr std::size_t kTailMergeRows = 1024;

enum CellTag : std::uint8_t { kAbsent = 0, kIntCell = 1, kRealCell = 2, kTextCell = 3 };

struct Cell {
  std::uint8_t tag = kAbsent;
  std::uint32_t text_size = 0;
  union {
    std::int64_t i = 0;
    double d;
    std::uint64_t text_offset;  // into Block::text
  };
};

struct Block {
  std::vector<Timestamp> ts;
  std::vector<std::int64_t> seq, arrival;
  std::vector<std::vector<Cell>> columns;  // by table column; shorter = absent
  std::string text;

  std::size_t rows() const { return ts.size(); }
  void clear();
  // Starts a row; cells are then set with set_*(column, ...). Columns not set are absent.
  void begin_row(Timestamp t, std::int64_t s, std::int64_t a);
  void set_int(int column, std::int64_t v) { cell(column) = make(kIntCell, v); }
  void set_real(int column, double v);
  void set_text(int column, std::string_view v);
  std::string_view text_of(const Cell& c) const {
    return std::string_view(text.data() + c.text_offset, c.text_size);
  }
  const Cell* at(int column, std::size_t row) const {
    return column < static_cast<int>(columns.size()) ? &columns[column][row] : nullptr;
  }
  // Appends row `r` of `other`.
  void append_row_of(const Block& other, std::size_t r);
  // Rows in (ts, seq) order (stable).
  void sort();

 private:
  Cell& cell(int column);
  static Cell make(std::uint8_t tag, std::int64_t v) {
    Cell c;
    c.tag = tag;
    c.i = v;
    return c;
  }
};

void encode(const Block& block, std::string& out);
// False when the bytes are not a block of this version.
bool decode(std::string_view bytes, Block& block);

}  // namespace pairflow::history::detail
