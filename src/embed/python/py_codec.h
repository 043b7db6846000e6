// Internal to the Python job host: JSON text <-> Python objects, and the columns of
// process_batch(). Built for the hot path: simdjson straight into Python objects with cached,
// interned keys; a small writer that walks Python objects into a reused buffer.
//
// Lifecycle: one JsonDecoder / ColumnBuilder / BatchRows per loaded job, living as long as it.
// init_numpy() runs once after the interpreter starts.
// Threading: every function here requires the GIL; instances belong to one job (one thread at a
// time). No function leaves a Python exception pending: failures come back as `error` text.
#pragma once

#include <Python.h>
#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/binary_codec.h"

namespace pairflow::embed::detail {

// An owned (strong) reference to a Python object.
class Ref {
 public:
  Ref() = default;
  explicit Ref(PyObject* owned) : p_(owned) {}
  static Ref borrow(PyObject* p) {
    Py_XINCREF(p);
    return Ref(p);
  }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Ref& operator=(Ref&& o) noexcept {
    if (this != &o) reset(std::exchange(o.p_, nullptr));
    return *this;
  }
  ~Ref() { Py_XDECREF(p_); }
  PyObject* get() const { return p_; }
  PyObject* release() { return std::exchange(p_, nullptr); }
  void reset(PyObject* owned = nullptr) {
    PyObject* old = p_;
    p_ = owned;
    Py_XDECREF(old);
  }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  PyObject* p_ = nullptr;
};

// Imports numpy's C API. Returns false (with `error`) when numpy is missing.
bool init_numpy(std::string& error);

// The pending Python exception as one line "Type: message"; clears it.
std::string take_python_error();

// Interned Python str objects for JSON keys. Messages of a topic share their shape, so the cache
// first tries the key seen at the same position last time (one memcmp), then a hash map. Bounded:
// a job whose keys are unbounded (ids as keys) gets fresh strings past the limit.
class KeyCache {
 public:
  KeyCache() = default;
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;
  ~KeyCache();
  // A borrowed reference valid until the next call; null (Python error set) on allocation failure.
  PyObject* get(std::string_view key, std::size_t position);

 private:
  static constexpr std::size_t kMaxKeys = 4096;
  static constexpr std::size_t kMaxPositions = 64;
  struct Slot {
    std::string text;
    PyObject* str = nullptr;  // borrowed from map_
  };
  std::vector<Slot> by_position_;
  std::unordered_map<std::string, PyObject*> map_;  // owns the str objects
  Ref spill_;  // an uncached key, kept alive until the next call
};

// Parses JSON payloads into Python objects.
class JsonDecoder {
 public:
  // A new dict from `text`, which must be one JSON object; null with `error` otherwise.
  PyObject* decode_object(std::string_view text, std::string& error);
  // Parses `text` into the parser's document (valid until the next parse).
  simdjson::error_code parse(std::string_view text, simdjson::dom::element& out);
  // A new reference for `value`; null with a Python error set on allocation failure.
  PyObject* to_python(simdjson::dom::element value);
  KeyCache& keys() { return keys_; }

 private:
  PyObject* object_to_python(simdjson::dom::object object);
  simdjson::dom::parser parser_;
  KeyCache keys_;
};

// Appends `obj` as JSON to `out`: dicts with str keys, lists, tuples, str, int, float (NaN and
// infinities as null), bool, None and numpy scalars and arrays. False with `error` when `obj`
// holds anything else.
bool write_json(PyObject* obj, std::string& out, std::string& error);

// Appends a double as JSON: shortest round-trip text, always with a '.' or exponent so that it
// reads back as a float; non-finite values as null.
void write_double(double value, std::string& out);

// Builds the columns handed to process_batch(): column name -> 1-d numpy array, one row per
// added object. Numbers are float64 (int64 when every row has an int), strings are object arrays
// of str, booleans bool; a missing or null number is NaN, a missing string None; anything else
// (nested objects, mixed types) is an object array.
class ColumnBuilder {
 public:
  ColumnBuilder() = default;
  ColumnBuilder(const ColumnBuilder&) = delete;
  ColumnBuilder& operator=(const ColumnBuilder&) = delete;
  ~ColumnBuilder() { clear(); }

  // Adds one row. False (with a Python error set) on allocation failure.
  bool add_row(simdjson::dom::object row, JsonDecoder& decoder);
  // The same, one field at a time, for decoders other than JSON (binary records): column() finds
  // or adds the column of the field at `position` (-1 with a Python error set on allocation
  // failure), put_*() sets its value in the current row, end_row() closes the row.
  std::ptrdiff_t column(std::string_view key, std::size_t position, JsonDecoder& decoder);
  void put_int(std::size_t column, std::int64_t v) { put(column, Cell{Tag::kInt, {.i = v}}); }
  void put_double(std::size_t column, double v) { put(column, Cell{Tag::kFloat, {.d = v}}); }
  void put_bool(std::size_t column, bool v) { put(column, Cell{Tag::kBool, {.i = v}}); }
  void put_null(std::size_t column) { put(column, Cell{Tag::kNull, {0}}); }
  bool put_str(std::size_t column, std::string_view text);  // false: Python error set
  void end_row();
  std::size_t rows() const { return rows_; }
  // A new dict of the columns; resets the builder. Null with a Python error set on failure.
  PyObject* build();
  void clear();

 private:
  enum class Tag : std::uint8_t { kMissing, kNull, kInt, kFloat, kBool, kStr, kObj };
  struct Cell {
    Tag tag;
    union {
      std::int64_t i;
      double d;
      PyObject* o;  // owned for kStr and kObj
    };
  };
  struct Column {
    Ref name;
    std::string text;  // the name, for the per-position check
    std::vector<Cell> cells;
  };
  Column& column_for(std::string_view key, std::size_t position, JsonDecoder& decoder);
  // The cell of `column` in the current row, replacing an earlier one (a duplicate key: the last
  // one wins, as in a dict).
  void put(std::size_t column, Cell cell);
  // A str for `text`, shared with the previous row's value of the column when equal.
  PyObject* str_for(Column& column, std::string_view text);
  static PyObject* build_column(std::vector<Cell>& cells);

  std::vector<Column> columns_;
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::size_t> by_position_;  // column of the field at each position, last row
  std::size_t rows_ = 0;
};

// Rows laid end to end in one buffer: row r is [ends[r], ends[r + 1]). Not zero-filled on growth,
// unlike std::string, since every byte is written.
struct PackedRows {
  std::unique_ptr<char[]> data;
  std::size_t capacity = 0;
  std::vector<std::size_t> ends;
  // Room for `size` bytes, reusing the buffer when large enough; the contents are undefined.
  char* reserve(std::size_t size) {
    if (size > capacity) {
      capacity = std::max(size, 2 * capacity);
      data.reset(new char[capacity]);
    }
    return data.get();
  }
  std::string_view row(std::size_t r) const {
    return std::string_view(data.get() + ends[r], ends[r + 1] - ends[r]);
  }
};

// Reads the rows of a columnar process_batch() result: a dict of equal-length 1-d numpy arrays,
// lists or tuples.
class BatchRows {
 public:
  // Keeps borrowed references into `columns`, which must outlive the reads.
  bool open(PyObject* columns, std::string& error);
  std::size_t size() const { return rows_; }
  // Appends row `i` as a JSON object.
  bool write_row(std::size_t i, std::string& out, std::string& error);
  // Binary rows (model/binary_codec.h; defined in py_binary.cc). bind_binary() prepares the
  // columns for `schema`, a fixed schema or kRecord; false when they do not fit it (a missing or
  // unknown field, a column of the wrong type). write_binary() appends row `i`; false when a value
  // does not fit (an object of another type, an int out of range). Either way the caller writes
  // JSON instead, and the transport encodes it or reports what does not fit.
  bool bind_binary(Schema schema);
  bool write_binary(std::size_t i, std::string& out);
  // Every row into `out`. Column by column when the record shape is the same for all rows.
  bool write_binary_rows(PackedRows& out);

 private:
  enum class Kind { kF64, kI64, kBool, kObjArray, kSeq };
  struct Column {
    std::string name;    // UTF-8
    std::string prefix;  // `"name":`
    Kind kind;
    const char* data = nullptr;
    std::ptrdiff_t stride = 0;
    PyObject* seq = nullptr;               // list or tuple (borrowed or held in `converted`)
    Ref holder;                            // the array (or its tolist()) kept alive
    std::vector<std::uint64_t> converted;  // see convert_uniform
  };
  // Element `i` of an object-array or list column (null for an unset object-array slot).
  static PyObject* element(const Column& col, std::size_t i);
  bool all_str(const Column& col) const;
  // A list or object-array column whose elements are all int, all float or all bool becomes an
  // int64 / float64 / bool column (a copy in `converted`); anything else is left as it is.
  void convert_uniform(Column& col);

  std::vector<Column> columns_;
  std::size_t rows_ = 0;
  // Set by bind_binary: the target, the column of each fixed-schema field (-1: absent), and for
  // records the shape when every column has one value type.
  Schema binary_schema_ = Schema::kRecord;
  std::vector<int> field_columns_;
  bool static_shape_ = false;
  std::string shape_;
  std::string row_shape_, row_values_;   // scratch for records with per-row types
  std::vector<std::string_view> texts_;  // scratch: str values, column by column
  std::vector<std::size_t> cursors_;     // scratch: the write position of each row
  std::string prefix_;                   // scratch: header and shape of a record row
  std::string row_scratch_;              // scratch: rows written one by one
};

}  // namespace pairflow::embed::detail
