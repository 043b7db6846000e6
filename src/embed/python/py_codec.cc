#include "embed/python/py_codec.h"

#include "model/json.h"

#define PY_ARRAY_UNIQUE_SYMBOL pairflow_embed_numpy_api
#include <numpy/arrayobject.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace pairflow::embed::detail {

namespace {

constexpr int kMaxDepth = 200;  // guards against self-referencing containers

std::string type_name(PyObject* obj) { return Py_TYPE(obj)->tp_name; }

bool write_str(PyObject* s, std::string& out, std::string& error) {
  Py_ssize_t n = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(s, &n);
  if (!utf8) {
    error = "str is not valid UTF-8: " + take_python_error();
    return false;
  }
  append_json_string(out, std::string_view(utf8, static_cast<std::size_t>(n)));
  return true;
}

void write_int64(long long v, std::string& out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr - buf);
}

bool write_long(PyObject* o, std::string& out, std::string& error) {
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow == 0) {
    if (v == -1 && PyErr_Occurred()) {
      error = take_python_error();
      return false;
    }
    write_int64(v, out);
    return true;
  }
  // Beyond 64 bits: Python's own decimal text is exact and valid JSON.
  Ref text(PyObject_Str(o));
  if (!text) {
    error = take_python_error();
    return false;
  }
  Py_ssize_t n = 0;
  const char* s = PyUnicode_AsUTF8AndSize(text.get(), &n);
  out.append(s, n);
  return true;
}

bool write_value(PyObject* o, std::string& out, std::string& error, int depth);

bool write_dict(PyObject* d, std::string& out, std::string& error, int depth) {
  out.push_back('{');
  Py_ssize_t pos = 0;
  PyObject* k;
  PyObject* v;
  bool first = true;
  while (PyDict_Next(d, &pos, &k, &v)) {
    if (!first) out.push_back(',');
    first = false;
    if (!PyUnicode_Check(k)) {
      error = "dict key of type " + type_name(k) + " is not a str";
      return false;
    }
    if (!write_str(k, out, error)) return false;
    out.push_back(':');
    if (!write_value(v, out, error, depth + 1)) return false;
  }
  out.push_back('}');
  return true;
}

bool write_sequence(PyObject* seq, std::string& out, std::string& error, int depth) {
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  PyObject** items = PySequence_Fast_ITEMS(seq);
  out.push_back('[');
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (i) out.push_back(',');
    if (!write_value(items[i], out, error, depth + 1)) return false;
  }
  out.push_back(']');
  return true;
}

// Anything that is not an exact builtin: subclasses and numpy types.
bool write_other(PyObject* o, std::string& out, std::string& error, int depth) {
  if (PyBool_Check(o)) {
    out += o == Py_True ? "true" : "false";
    return true;
  }
  if (PyFloat_Check(o)) {  // numpy.float64 is a float subclass
    write_double(PyFloat_AS_DOUBLE(o), out);
    return true;
  }
  if (PyLong_Check(o)) return write_long(o, out, error);
  if (PyUnicode_Check(o)) return write_str(o, out, error);
  if (PyDict_Check(o)) return write_dict(o, out, error, depth);
  if (PyList_Check(o) || PyTuple_Check(o)) return write_sequence(o, out, error, depth);
  if (PyArray_IsScalar(o, Bool)) {
    out += PyObject_IsTrue(o) ? "true" : "false";
    return true;
  }
  if (PyArray_IsScalar(o, Integer)) {
    Ref v(PyNumber_Index(o));
    if (!v) {
      error = take_python_error();
      return false;
    }
    return write_long(v.get(), out, error);
  }
  if (PyArray_IsScalar(o, Floating)) {
    double d = PyFloat_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred()) {
      error = take_python_error();
      return false;
    }
    write_double(d, out);
    return true;
  }
  if (PyArray_Check(o) || PyArray_IsScalar(o, Generic)) {
    // Rare outside process_batch: let numpy convert to builtins.
    Ref list(PyObject_CallMethod(o, "tolist", nullptr));
    if (!list) {
      error = take_python_error();
      return false;
    }
    return write_value(list.get(), out, error, depth + 1);
  }
  error = "object of type " + type_name(o) + " is not JSON-serializable";
  return false;
}

bool write_value(PyObject* o, std::string& out, std::string& error, int depth) {
  if (depth > kMaxDepth) {
    error = "nesting deeper than 200 levels (a container that contains itself?)";
    return false;
  }
  if (PyUnicode_CheckExact(o)) return write_str(o, out, error);
  if (PyFloat_CheckExact(o)) {
    write_double(PyFloat_AS_DOUBLE(o), out);
    return true;
  }
  if (o == Py_True) {
    out += "true";
    return true;
  }
  if (o == Py_False) {
    out += "false";
    return true;
  }
  if (PyLong_CheckExact(o)) return write_long(o, out, error);
  if (o == Py_None) {
    out += "null";
    return true;
  }
  if (PyDict_CheckExact(o)) return write_dict(o, out, error, depth);
  if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) return write_sequence(o, out, error, depth);
  return write_other(o, out, error, depth);
}

}  // namespace

bool init_numpy(std::string& error) {
  if (_import_array() < 0) {
    error = "cannot import numpy: " + take_python_error();
    return false;
  }
  return true;
}

std::string take_python_error() {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  if (!type) return "unknown error";
  PyErr_NormalizeException(&type, &value, &tb);
  Ref t(type), v(value), b(tb);
  std::string out = reinterpret_cast<PyTypeObject*>(type)->tp_name;
  if (v) {
    Ref s(PyObject_Str(v.get()));
    if (s) {
      Py_ssize_t n = 0;
      const char* text = PyUnicode_AsUTF8AndSize(s.get(), &n);
      if (text && n) out.append(": ").append(text, n);
    }
    PyErr_Clear();
  }
  return out;
}

void write_double(double value, std::string& out) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr - buf);
  for (char* p = buf; p < r.ptr; ++p) {
    if (*p == '.' || *p == 'e') return;
  }
  out += ".0";
}

bool write_json(PyObject* obj, std::string& out, std::string& error) {
  return write_value(obj, out, error, 0);
}

// --- KeyCache --------------------------------------------------------------------------------

KeyCache::~KeyCache() {
  for (auto& [text, str] : map_) Py_DECREF(str);
}

PyObject* KeyCache::get(std::string_view key, std::size_t position) {
  if (position < by_position_.size()) {
    Slot& slot = by_position_[position];
    if (slot.str && slot.text == key) return slot.str;
  }
  PyObject* str = nullptr;
  if (auto it = map_.find(std::string(key)); it != map_.end()) {
    str = it->second;
  } else {
    str = PyUnicode_FromStringAndSize(key.data(), static_cast<Py_ssize_t>(key.size()));
    if (!str) return nullptr;
    if (map_.size() >= kMaxKeys) {
      spill_.reset(str);
      return str;
    }
    // Interned keys make the job's literal lookups (msg["price"]) pointer comparisons.
    PyUnicode_InternInPlace(&str);
    map_.emplace(std::string(key), str);
  }
  if (position < kMaxPositions) {
    if (position >= by_position_.size()) by_position_.resize(position + 1);
    by_position_[position].text.assign(key);
    by_position_[position].str = str;
  }
  return str;
}

// --- JsonDecoder -----------------------------------------------------------------------------

simdjson::error_code JsonDecoder::parse(std::string_view text, simdjson::dom::element& out) {
  // realloc_if_needed copies into the parser's reused, padded buffer.
  return parser_.parse(text.data(), text.size(), true).get(out);
}

// simdjson reads integers of up to 64 bits; JSON allows any size, and so do Python ints. A payload
// simdjson refuses for a number goes through Python's json module instead (rare, so its speed does
// not matter), which keeps every digit.
static PyObject* decode_with_python_json(std::string_view text, std::string& error) {
  static PyObject* loads = [] {
    Ref module(PyImport_ImportModule("json"));
    return module ? PyObject_GetAttrString(module.get(), "loads") : nullptr;
  }();
  if (!loads) {
    error = "payload is not valid JSON: " + take_python_error();
    return nullptr;
  }
  Ref arg(PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "strict"));
  Ref value(arg ? PyObject_CallOneArg(loads, arg.get()) : nullptr);
  if (!value) {
    error = "payload is not valid JSON: " + take_python_error();
    return nullptr;
  }
  if (!PyDict_Check(value.get())) {
    error = "payload is not a JSON object";
    return nullptr;
  }
  return value.release();
}

PyObject* JsonDecoder::decode_object(std::string_view text, std::string& error) {
  simdjson::dom::element root;
  if (auto err = parse(text, root)) {
    if (err == simdjson::NUMBER_ERROR) return decode_with_python_json(text, error);
    error = std::string("payload is not valid JSON: ") + simdjson::error_message(err);
    return nullptr;
  }
  if (root.type() != simdjson::dom::element_type::OBJECT) {
    error = "payload is not a JSON object";
    return nullptr;
  }
  PyObject* dict = object_to_python(root.get_object().value_unsafe());
  if (!dict) error = take_python_error();
  return dict;
}

PyObject* JsonDecoder::object_to_python(simdjson::dom::object object) {
  Ref dict(_PyDict_NewPresized(static_cast<Py_ssize_t>(object.size())));
  if (!dict) return nullptr;
  std::size_t position = 0;
  for (simdjson::dom::key_value_pair field : object) {
    PyObject* key = keys_.get(field.key, position++);
    if (!key) return nullptr;
    Ref value(to_python(field.value));
    if (!value || PyDict_SetItem(dict.get(), key, value.get()) < 0) return nullptr;
  }
  return dict.release();
}

PyObject* JsonDecoder::to_python(simdjson::dom::element value) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::OBJECT:
      return object_to_python(value.get_object().value_unsafe());
    case element_type::ARRAY: {
      simdjson::dom::array array = value.get_array().value_unsafe();
      Ref list(PyList_New(static_cast<Py_ssize_t>(array.size())));
      if (!list) return nullptr;
      Py_ssize_t i = 0;
      for (simdjson::dom::element item : array) {
        PyObject* v = to_python(item);
        if (!v) return nullptr;
        PyList_SET_ITEM(list.get(), i++, v);
      }
      return list.release();
    }
    case element_type::STRING: {
      std::string_view s = value.get_string().value_unsafe();
      return PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
    }
    case element_type::INT64:
      return PyLong_FromLongLong(value.get_int64().value_unsafe());
    case element_type::UINT64:
      return PyLong_FromUnsignedLongLong(value.get_uint64().value_unsafe());
    case element_type::DOUBLE:
      return PyFloat_FromDouble(value.get_double().value_unsafe());
    case element_type::BOOL:
      return PyBool_FromLong(value.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
      Py_RETURN_NONE;
  }
  Py_RETURN_NONE;
}

// --- ColumnBuilder ---------------------------------------------------------------------------

void ColumnBuilder::clear() {
  for (Column& c : columns_) {
    for (Cell& cell : c.cells) {
      if (cell.tag == Tag::kStr || cell.tag == Tag::kObj) Py_DECREF(cell.o);
    }
  }
  columns_.clear();
  index_.clear();
  by_position_.clear();
  rows_ = 0;
}

ColumnBuilder::Column& ColumnBuilder::column_for(std::string_view key, std::size_t position,
                                                 JsonDecoder& decoder) {
  if (position < by_position_.size()) {
    Column& guess = columns_[by_position_[position]];
    if (guess.text == key) return guess;
  }
  std::size_t index;
  if (auto it = index_.find(std::string(key)); it != index_.end()) {
    index = it->second;
  } else {
    index = columns_.size();
    index_.emplace(std::string(key), index);
    Column& c = columns_.emplace_back();
    c.name = Ref::borrow(decoder.keys().get(key, position));
    c.text.assign(key);
    c.cells.reserve(rows_ + 64);
    c.cells.resize(rows_, Cell{Tag::kMissing, {0}});  // rows before this key appeared
  }
  if (position >= by_position_.size()) by_position_.resize(position + 1);
  by_position_[position] = index;
  return columns_[index];
}

std::ptrdiff_t ColumnBuilder::column(std::string_view key, std::size_t position,
                                     JsonDecoder& decoder) {
  Column& c = column_for(key, position, decoder);
  if (!c.name) return -1;
  return &c - columns_.data();
}

void ColumnBuilder::put(std::size_t column, Cell cell) {
  std::vector<Cell>& cells = columns_[column].cells;
  if (cells.size() > rows_) {
    Cell& old = cells.back();
    if (old.tag == Tag::kStr || old.tag == Tag::kObj) Py_DECREF(old.o);
    cells.pop_back();
  }
  cells.push_back(cell);
}

PyObject* ColumnBuilder::str_for(Column& column, std::string_view s) {
  // Repeated values (a symbol column) share one str object.
  const std::size_t last = std::min(column.cells.size(), rows_);
  if (last > 0 && column.cells[last - 1].tag == Tag::kStr) {
    PyObject* prev = column.cells[last - 1].o;
    Py_ssize_t n = 0;
    const char* text = PyUnicode_AsUTF8AndSize(prev, &n);
    if (static_cast<std::size_t>(n) == s.size() && std::memcmp(text, s.data(), n) == 0) {
      return Py_NewRef(prev);
    }
  }
  return PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
}

bool ColumnBuilder::put_str(std::size_t column, std::string_view text) {
  PyObject* o = str_for(columns_[column], text);
  if (!o) return false;
  Cell cell{Tag::kStr, {0}};
  cell.o = o;
  put(column, cell);
  return true;
}

void ColumnBuilder::end_row() {
  ++rows_;
  for (Column& column : columns_) {
    if (column.cells.size() < rows_) column.cells.push_back(Cell{Tag::kMissing, {0}});
  }
}

bool ColumnBuilder::add_row(simdjson::dom::object row, JsonDecoder& decoder) {
  using simdjson::dom::element_type;
  std::size_t position = 0;
  for (simdjson::dom::key_value_pair field : row) {
    const std::ptrdiff_t index = column(field.key, position++, decoder);
    if (index < 0) return false;
    const auto col = static_cast<std::size_t>(index);
    simdjson::dom::element v = field.value;
    switch (v.type()) {
      case element_type::INT64:
        put_int(col, v.get_int64().value_unsafe());
        break;
      case element_type::DOUBLE:
        put_double(col, v.get_double().value_unsafe());
        break;
      case element_type::BOOL:
        put_bool(col, v.get_bool().value_unsafe());
        break;
      case element_type::NULL_VALUE:
        put_null(col);
        break;
      case element_type::STRING:
        if (!put_str(col, v.get_string().value_unsafe())) return false;
        break;
      default: {  // uint64 beyond int64, nested arrays and objects
        Cell cell{Tag::kObj, {0}};
        cell.o = decoder.to_python(v);
        if (!cell.o) return false;
        put(col, cell);
      }
    }
  }
  end_row();
  return true;
}

PyObject* ColumnBuilder::build_column(std::vector<Cell>& cells) {
  bool has_int = false, has_float = false, has_bool = false, has_str = false, has_obj = false,
       has_none = false;
  for (const Cell& c : cells) {
    switch (c.tag) {
      case Tag::kInt:
        has_int = true;
        break;
      case Tag::kFloat:
        has_float = true;
        break;
      case Tag::kBool:
        has_bool = true;
        break;
      case Tag::kStr:
        has_str = true;
        break;
      case Tag::kObj:
        has_obj = true;
        break;
      default:
        has_none = true;
    }
  }
  npy_intp n = static_cast<npy_intp>(cells.size());
  const bool numeric = (has_int || has_float) && !has_bool && !has_str && !has_obj;
  if (numeric && has_int && !has_float && !has_none) {
    PyObject* arr = PyArray_SimpleNew(1, &n, NPY_INT64);
    if (!arr) return nullptr;
    auto* out = static_cast<std::int64_t*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(arr)));
    for (npy_intp i = 0; i < n; ++i) out[i] = cells[i].i;
    return arr;
  }
  if (numeric) {
    PyObject* arr = PyArray_SimpleNew(1, &n, NPY_FLOAT64);
    if (!arr) return nullptr;
    auto* out = static_cast<double*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(arr)));
    for (npy_intp i = 0; i < n; ++i) {
      const Cell& c = cells[i];
      out[i] = c.tag == Tag::kFloat ? c.d
               : c.tag == Tag::kInt ? static_cast<double>(c.i)
                                    : std::numeric_limits<double>::quiet_NaN();
    }
    return arr;
  }
  if (has_bool && !has_int && !has_float && !has_str && !has_obj && !has_none) {
    PyObject* arr = PyArray_SimpleNew(1, &n, NPY_BOOL);
    if (!arr) return nullptr;
    auto* out = static_cast<npy_bool*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(arr)));
    for (npy_intp i = 0; i < n; ++i) out[i] = cells[i].i != 0;
    return arr;
  }
  // Object array: strings (with None for missing), or a mix.
  PyObject* arr = PyArray_SimpleNew(1, &n, NPY_OBJECT);
  if (!arr) return nullptr;
  auto** out = static_cast<PyObject**>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(arr)));
  for (npy_intp i = 0; i < n; ++i) {
    Cell& c = cells[i];
    PyObject* o = nullptr;
    switch (c.tag) {
      case Tag::kStr:
      case Tag::kObj:
        o = c.o;  // the array takes the cell's reference
        c.tag = Tag::kNull;
        break;
      case Tag::kInt:
        o = PyLong_FromLongLong(c.i);
        break;
      case Tag::kFloat:
        o = PyFloat_FromDouble(c.d);
        break;
      case Tag::kBool:
        o = PyBool_FromLong(static_cast<long>(c.i));
        break;
      default:
        o = Py_NewRef(Py_None);
    }
    if (!o) {
      Py_DECREF(arr);
      return nullptr;
    }
    // The fresh object array holds nulls (numpy zero-fills it); nothing to release.
    out[i] = o;
  }
  return arr;
}

PyObject* ColumnBuilder::build() {
  Ref dict(_PyDict_NewPresized(static_cast<Py_ssize_t>(columns_.size())));
  if (!dict) return nullptr;
  for (Column& column : columns_) {
    Ref arr(build_column(column.cells));
    if (!arr || PyDict_SetItem(dict.get(), column.name.get(), arr.get()) < 0) {
      clear();
      return nullptr;
    }
  }
  clear();
  return dict.release();
}

// --- BatchRows -------------------------------------------------------------------------------

bool BatchRows::open(PyObject* columns, std::string& error) {
  columns_.clear();
  rows_ = 0;
  bool first = true;
  Py_ssize_t pos = 0;
  PyObject* k;
  PyObject* v;
  while (PyDict_Next(columns, &pos, &k, &v)) {
    if (!PyUnicode_Check(k)) {
      error = "process_batch() returned a dict with a key of type " + type_name(k);
      return false;
    }
    Column col;
    if (!write_str(k, col.prefix, error)) return false;
    Py_ssize_t name_size = 0;
    const char* name = PyUnicode_AsUTF8AndSize(k, &name_size);  // valid: write_str succeeded
    col.name.assign(name, static_cast<std::size_t>(name_size));
    const std::string label = col.prefix;  // the quoted name, for errors
    col.prefix.push_back(':');
    std::size_t n = 0;
    if (PyArray_Check(v)) {
      auto* arr = reinterpret_cast<PyArrayObject*>(v);
      if (PyArray_NDIM(arr) != 1) {
        error = "process_batch() column " + label + " is not 1-dimensional";
        return false;
      }
      n = static_cast<std::size_t>(PyArray_DIM(arr, 0));
      const int type = PyArray_TYPE(arr);
      col.data = static_cast<const char*>(PyArray_DATA(arr));
      col.stride = PyArray_STRIDE(arr, 0);
      const bool native = PyArray_ISNOTSWAPPED(arr);
      if (native && type == NPY_FLOAT64) {
        col.kind = Kind::kF64;
      } else if (native && type == NPY_INT64) {
        col.kind = Kind::kI64;
      } else if (type == NPY_BOOL) {
        col.kind = Kind::kBool;
      } else if (type == NPY_OBJECT) {
        col.kind = Kind::kObjArray;
      } else {
        // Other dtypes (float32, int32, datetime64, str_) go through numpy's own conversion.
        col.holder.reset(PyObject_CallMethod(v, "tolist", nullptr));
        if (!col.holder) {
          error = take_python_error();
          return false;
        }
        col.kind = Kind::kSeq;
        col.seq = col.holder.get();
      }
    } else if (PyList_Check(v) || PyTuple_Check(v)) {
      col.kind = Kind::kSeq;
      col.seq = v;
      n = static_cast<std::size_t>(PySequence_Fast_GET_SIZE(v));
    } else {
      error = "process_batch() column " + label + " is " + type_name(v) +
              "; expected a numpy array or a list";
      return false;
    }
    if (first) {
      rows_ = n;
      first = false;
    } else if (n != rows_) {
      error = "process_batch() returned columns of different lengths (" + std::to_string(rows_) +
              " and " + std::to_string(n) + ")";
      return false;
    }
    columns_.push_back(std::move(col));
  }
  return true;
}

bool BatchRows::write_row(std::size_t i, std::string& out, std::string& error) {
  out.push_back('{');
  bool first = true;
  for (const Column& col : columns_) {
    if (!first) out.push_back(',');
    first = false;
    out += col.prefix;
    const char* at = col.data + static_cast<std::ptrdiff_t>(i) * col.stride;
    switch (col.kind) {
      case Kind::kF64: {
        double d;
        std::memcpy(&d, at, sizeof d);
        write_double(d, out);
        break;
      }
      case Kind::kI64: {
        std::int64_t x;
        std::memcpy(&x, at, sizeof x);
        write_int64(x, out);
        break;
      }
      case Kind::kBool:
        out += *at ? "true" : "false";
        break;
      case Kind::kObjArray:
      case Kind::kSeq: {
        PyObject* o = element(col, i);
        if (!write_value(o ? o : Py_None, out, error, 1)) return false;
        break;
      }
    }
  }
  out.push_back('}');
  return true;
}

}  // namespace pairflow::embed::detail
