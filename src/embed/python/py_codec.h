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

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

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
  static PyObject* build_column(std::vector<Cell>& cells);

  std::vector<Column> columns_;
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::size_t> by_position_;  // column of the field at each position, last row
  std::size_t rows_ = 0;
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

 private:
  enum class Kind { kF64, kI64, kBool, kObjArray, kSeq };
  struct Column {
    std::string prefix;  // `"name":`
    Kind kind;
    const char* data = nullptr;
    std::ptrdiff_t stride = 0;
    PyObject* seq = nullptr;  // list or tuple (borrowed or held in `converted`)
    Ref holder;               // the array (or its tolist()) kept alive
  };
  std::vector<Column> columns_;
  std::size_t rows_ = 0;
};

}  // namespace pairflow::embed::detail
