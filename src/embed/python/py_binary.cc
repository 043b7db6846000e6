#include "embed/python/py_binary.h"

#define PY_ARRAY_UNIQUE_SYMBOL pairflow_embed_numpy_api
#define NO_IMPORT_ARRAY
#include <numpy/arrayobject.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "base/status.h"

namespace pairflow::embed::detail {

namespace {

using stream::Job;
using stream::Message;

constexpr const char* kTruncated = "binary message is truncated";

// A hash of a short text (a symbol, an enum value), computed per row: up to 8 bytes as two
// overlapping loads and one multiply, longer texts by FNV-1a.
std::size_t text_hash(std::string_view text) {
  const char* p = text.data();
  const std::size_t n = text.size();
  std::uint64_t key = n;
  if (n >= 4 && n <= 8) {
    std::uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    key ^= (static_cast<std::uint64_t>(a) << 8) ^ (static_cast<std::uint64_t>(b) << 32);
  } else if (n < 4) {
    for (std::size_t c = 0; c < n; ++c)
      key ^= static_cast<std::uint64_t>(p[c] & 0xff) << (8 * c + 8);
  } else {
    std::uint32_t h = 2166136261u;
    for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    key ^= static_cast<std::uint64_t>(h) << 8;
  }
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 56);
}

// One field of a record's shape.
struct ShapeField {
  std::string_view name;
  RecordType type;
};

// Splits a record body into its shape and values; checks every value is there, and no more.
// Empty `reason` on success.
void parse_record(std::string_view body, std::string_view& shape, std::string_view& values,
                  std::vector<ShapeField>& fields, std::string& reason) {
  fields.clear();
  std::uint16_t count = 0, shape_size = 0;
  if (!binary_get(body, count) || !binary_get(body, shape_size) || body.size() < shape_size) {
    reason = kTruncated;
    return;
  }
  shape = body.substr(0, shape_size);
  values = body.substr(shape_size);
  std::string_view s = shape, v = values;
  for (std::size_t i = 0; i < count; ++i) {
    std::uint8_t name_size = 0, type = 0;
    if (!binary_get(s, name_size) || s.size() < name_size + 1u) {
      reason = kTruncated;
      return;
    }
    ShapeField f{s.substr(0, name_size), RecordType::kNull};
    s.remove_prefix(name_size);
    binary_get(s, type);
    f.type = static_cast<RecordType>(type);
    std::size_t size = 0;
    switch (f.type) {
      case RecordType::kNull:
        break;
      case RecordType::kBool:
        size = 1;
        break;
      case RecordType::kI64:
      case RecordType::kF64:
        size = 8;
        break;
      case RecordType::kStr: {
        std::uint16_t n = 0;
        std::string_view peek = v;
        if (!binary_get(peek, n)) {
          reason = kTruncated;
          return;
        }
        size = 2u + n;
        break;
      }
      default:
        reason = "field '" + std::string(f.name) + "' has an unknown type " + std::to_string(type);
        return;
    }
    if (v.size() < size) {
      reason = kTruncated;
      return;
    }
    v.remove_prefix(size);
    fields.push_back(f);
  }
  if (!s.empty()) reason = "binary record shape has trailing bytes";
  if (!v.empty()) reason = "binary message has trailing bytes";
}

}  // namespace

PyObject* BinaryColumns::cached_str(std::string_view text) {
  if (text.size() > Slot::kMaxText) {  // long texts are rarely repeated: not cached
    spill_.reset(PyUnicode_FromStringAndSize(text.data(), static_cast<Py_ssize_t>(text.size())));
    return spill_.get();
  }
  Slot& slot = strings_[text_hash(text) & (strings_.size() - 1)];
  if (slot.str && slot.size == text.size()) {
    bool same = true;  // short: a plain loop beats a call to memcmp
    for (std::size_t c = 0; c < text.size() && same; ++c) same = slot.text[c] == text[c];
    if (same) return slot.str.get();
  }
  Ref fresh(PyUnicode_FromStringAndSize(text.data(), static_cast<Py_ssize_t>(text.size())));
  if (!fresh) return nullptr;
  std::memcpy(slot.text, text.data(), text.size());
  slot.size = static_cast<std::uint8_t>(text.size());
  slot.str = std::move(fresh);
  return slot.str.get();
}

BinaryColumns::Outcome BinaryColumns::decode(std::span<const Message> batch, ColumnBuilder& records,
                                             JsonDecoder& decoder, Ref& columns,
                                             std::vector<std::size_t>& index,
                                             std::vector<Job::Failure>& bad) {
  // The batch's schema: that of its first well-formed binary message.
  std::optional<Schema> schema;
  for (const Message& m : batch) {
    if (!is_binary_message(m.payload)) return Outcome::kFallback;  // JSON among them
    if (!schema) {
      if (auto s = binary_schema(m.payload)) schema = *s;
    }
  }
  if (!schema) {  // nothing decodable: every row is reported by the JSON path's per-row decoding
    return Outcome::kFallback;
  }
  std::vector<Job::Failure> failed;
  index.clear();
  const Outcome outcome = *schema == Schema::kRecord
                              ? decode_records(batch, records, decoder, columns, index, failed)
                              : decode_fixed(*schema, batch, columns, index, failed);
  if (outcome == Outcome::kBuilt) {
    bad.insert(bad.end(), failed.begin(), failed.end());
  } else {
    index.clear();
  }
  return outcome;
}

namespace {

enum class Read { kOk, kBad, kOverflow, kNoMemory };

bool is_object_kind(BinaryKind kind) {
  return kind == BinaryKind::kStr || kind == BinaryKind::kEnum;
}

}  // namespace

// One field of a fixed-schema row into row `k` of its column. `kind` is a constant where the
// schema's layout is known at compile time (read_row), so the switch folds away.
[[gnu::always_inline]] inline int BinaryColumns::read_value(BinaryKind kind,
                                                            const BinaryField& field,
                                                            std::string_view& body, char* column,
                                                            std::size_t k, bool& absent,
                                                            std::string& reason) {
  switch (kind) {
    case BinaryKind::kI64:
    case BinaryKind::kF64:  // stored as the wire has it
      if (body.size() < 8) break;
      std::memcpy(column + 8 * k, body.data(), 8);
      body.remove_prefix(8);
      return static_cast<int>(Read::kOk);
    case BinaryKind::kU64: {
      std::uint64_t v;
      if (!binary_get(body, v)) break;
      // Columns are int64, as on the JSON path; an id beyond that goes through JSON.
      if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return static_cast<int>(Read::kOverflow);
      }
      reinterpret_cast<std::int64_t*>(column)[k] = static_cast<std::int64_t>(v);
      return static_cast<int>(Read::kOk);
    }
    case BinaryKind::kU32:
    case BinaryKind::kOptU32: {
      std::uint32_t v;
      if (!binary_get(body, v)) break;
      const bool none = kind == BinaryKind::kOptU32 && v == kBinaryNoPairId;
      absent = absent || none;
      reinterpret_cast<std::int64_t*>(column)[k] = none ? -1 : static_cast<std::int64_t>(v);
      return static_cast<int>(Read::kOk);
    }
    case BinaryKind::kStr:
    case BinaryKind::kEnum: {
      std::string_view text;
      if (kind == BinaryKind::kStr) {
        std::uint16_t len;
        if (!binary_get(body, len) || body.size() < len) break;
        text = body.substr(0, len);
        body.remove_prefix(len);
      } else {
        std::uint8_t v;
        if (!binary_get(body, v)) break;
        if (v >= field.values.size()) {
          reason = "field '" + std::string(field.name) + "' has an unknown value";
          return static_cast<int>(Read::kBad);
        }
        text = field.values[v];
      }
      PyObject* str = cached_str(text);
      if (!str) return static_cast<int>(Read::kNoMemory);
      reinterpret_cast<PyObject**>(column)[k] = Py_NewRef(str);
      return static_cast<int>(Read::kOk);
    }
  }
  reason = kTruncated;
  return static_cast<int>(Read::kBad);
}

template <BinaryKind... Kinds, std::size_t... I>
int BinaryColumns::read_row(std::index_sequence<I...>, const std::vector<BinaryField>& fields,
                            std::string_view& body, char* const* data, std::size_t k, bool* absent,
                            std::string& reason) {
  int r = static_cast<int>(Read::kOk);
  ((r == static_cast<int>(Read::kOk)
        ? (r = read_value(Kinds, fields[I], body, data[I], k, absent[I], reason), 0)
        : 0),
   ...);
  return r;
}

// The row decoder of a schema: unrolled for the fixed schemas (their field kinds, checked against
// schema_fields), a loop otherwise.
template <BinaryKind... Kinds>
int BinaryColumns::read_schema_row(const std::vector<BinaryField>& fields, std::string_view& body,
                                   char* const* data, std::size_t k, bool* absent,
                                   std::string& reason) {
  return read_row<Kinds...>(std::index_sequence_for<decltype(Kinds)...>{}, fields, body, data, k,
                            absent, reason);
}

int BinaryColumns::read_any_row(const std::vector<BinaryField>& fields, std::string_view& body,
                                char* const* data, std::size_t k, bool* absent,
                                std::string& reason) {
  for (std::size_t f = 0; f < fields.size(); ++f) {
    const int r = read_value(fields[f].kind, fields[f], body, data[f], k, absent[f], reason);
    if (r != static_cast<int>(Read::kOk)) return r;
  }
  return static_cast<int>(Read::kOk);
}

namespace {

template <BinaryKind... Kinds>
bool layout_is(const std::vector<BinaryField>& fields) {
  const BinaryKind kinds[] = {Kinds...};
  if (fields.size() != sizeof...(Kinds)) return false;
  for (std::size_t f = 0; f < fields.size(); ++f) {
    if (fields[f].kind != kinds[f]) return false;
  }
  return true;
}

}  // namespace

BinaryColumns::Outcome BinaryColumns::decode_fixed(Schema schema, std::span<const Message> batch,
                                                   Ref& columns, std::vector<std::size_t>& index,
                                                   std::vector<Job::Failure>& bad) {
  using K = BinaryKind;
  const std::vector<BinaryField>& fields = schema_fields(schema);
  // The two schemas that carry market data at volume get an unrolled row decoder.
  static const bool tick_layout =
      layout_is<K::kI64, K::kStr, K::kF64, K::kF64, K::kF64, K::kF64>(schema_fields(Schema::kTick));
  static const bool bar_layout =
      layout_is<K::kI64, K::kStr, K::kF64, K::kF64, K::kF64, K::kF64, K::kF64, K::kF64, K::kU32>(
          schema_fields(Schema::kBar));
  PAIRFLOW_CHECK(tick_layout && bar_layout, "binary schema layouts changed: update py_binary.cc");
  const auto read =
      schema == Schema::kTick
          ? &BinaryColumns::read_schema_row<K::kI64, K::kStr, K::kF64, K::kF64, K::kF64, K::kF64>
      : schema == Schema::kBar
          ? &BinaryColumns::read_schema_row<K::kI64, K::kStr, K::kF64, K::kF64, K::kF64, K::kF64,
                                            K::kF64, K::kF64, K::kU32>
          : &BinaryColumns::read_any_row;

  const std::size_t nf = fields.size();
  npy_intp n = static_cast<npy_intp>(batch.size());
  std::vector<Ref> arrays(nf);
  std::vector<char*> data(nf);
  bool absent[16] = {};  // an optional pair id was absent in some row
  PAIRFLOW_CHECK(nf <= 16, "binary schema with more than 16 fields");
  for (std::size_t f = 0; f < nf; ++f) {
    const BinaryKind kind = fields[f].kind;
    const int type = kind == BinaryKind::kF64 ? NPY_FLOAT64
                     : is_object_kind(kind)   ? NPY_OBJECT
                                              : NPY_INT64;
    // Object arrays start zero-filled (NULL): slots of rejected rows are released again.
    arrays[f].reset(PyArray_SimpleNew(1, &n, type));
    if (!arrays[f]) return Outcome::kError;
    data[f] = static_cast<char*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(arrays[f].get())));
  }
  std::size_t k = 0;
  std::string reason;
  const char header[kBinaryHeaderSize] = {'P', 'F', static_cast<char>(kBinaryVersion),
                                          static_cast<char>(schema)};
  index.reserve(index.size() + batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    std::string_view body = batch[i].payload;
    if (body.size() < kBinaryHeaderSize || std::memcmp(body.data(), header, 4) != 0) {
      auto s = binary_schema(body);
      if (!s) {
        bad.push_back({i, std::string(s.status().message())});
        continue;
      }
      return Outcome::kFallback;  // another schema
    }
    body.remove_prefix(kBinaryHeaderSize);
    int r = (this->*read)(fields, body, data.data(), k, absent, reason);
    if (r == static_cast<int>(Read::kOk) && !body.empty()) {
      reason = "binary message has trailing bytes";
      r = static_cast<int>(Read::kBad);
    }
    if (r == static_cast<int>(Read::kOk)) {
      index.push_back(i);
      ++k;
      continue;
    }
    if (r == static_cast<int>(Read::kNoMemory)) return Outcome::kError;
    if (r == static_cast<int>(Read::kOverflow)) return Outcome::kFallback;
    for (std::size_t g = 0; g < nf; ++g) {  // release what the rejected row stored
      if (is_object_kind(fields[g].kind)) Py_CLEAR(reinterpret_cast<PyObject**>(data[g])[k]);
    }
    bad.push_back({i, reason});
  }
  Ref dict(PyDict_New());
  if (!dict) return Outcome::kError;
  for (std::size_t f = 0; f < nf; ++f) {
    Ref column;
    if (absent[f]) {
      // As on the JSON path: a number column with a missing value is float64 with NaN.
      npy_intp rows = static_cast<npy_intp>(k);
      column.reset(PyArray_SimpleNew(1, &rows, NPY_FLOAT64));
      if (!column) return Outcome::kError;
      auto* out =
          static_cast<double*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(column.get())));
      const auto* in = reinterpret_cast<const std::int64_t*>(data[f]);
      for (std::size_t r = 0; r < k; ++r) {
        out[r] = in[r] < 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(in[r]);
      }
    } else if (k < batch.size()) {
      column.reset(PySequence_GetSlice(arrays[f].get(), 0, static_cast<Py_ssize_t>(k)));
      if (!column) return Outcome::kError;
    } else {
      column = std::move(arrays[f]);
    }
    if (PyDict_SetItemString(dict.get(), fields[f].name, column.get()) < 0) return Outcome::kError;
  }
  columns = std::move(dict);
  return Outcome::kBuilt;
}

BinaryColumns::Outcome BinaryColumns::decode_records(std::span<const Message> batch,
                                                     ColumnBuilder& records, JsonDecoder& decoder,
                                                     Ref& columns, std::vector<std::size_t>& index,
                                                     std::vector<Job::Failure>& bad) {
  records.clear();
  shape_.clear();  // column numbers are per build
  shape_columns_.clear();
  std::vector<ShapeField> fields;
  std::string reason;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    std::string_view body = batch[i].payload;
    auto s = binary_schema(body);
    if (!s) {
      bad.push_back({i, std::string(s.status().message())});
      continue;
    }
    if (*s != Schema::kRecord) {
      records.clear();
      return Outcome::kFallback;
    }
    body.remove_prefix(kBinaryHeaderSize);
    std::string_view shape, values;
    reason.clear();
    parse_record(body, shape, values, fields, reason);
    if (!reason.empty()) {
      bad.push_back({i, reason});
      continue;
    }
    if (shape != shape_) {
      shape_.assign(shape);
      shape_columns_.clear();
      for (std::size_t f = 0; f < fields.size(); ++f) {
        const std::ptrdiff_t c = records.column(fields[f].name, f, decoder);
        if (c < 0) {
          records.clear();
          return Outcome::kError;
        }
        shape_columns_.push_back(static_cast<std::size_t>(c));
      }
    }
    for (std::size_t f = 0; f < fields.size(); ++f) {
      const std::size_t c = shape_columns_[f];
      switch (fields[f].type) {
        case RecordType::kNull:
          records.put_null(c);
          break;
        case RecordType::kBool: {
          std::uint8_t b = 0;
          binary_get(values, b);
          records.put_bool(c, b != 0);
          break;
        }
        case RecordType::kI64: {
          std::int64_t v = 0;
          binary_get(values, v);
          records.put_int(c, v);
          break;
        }
        case RecordType::kF64: {
          double v = 0;
          binary_get(values, v);
          records.put_double(c, v);
          break;
        }
        case RecordType::kStr: {
          std::uint16_t len = 0;
          binary_get(values, len);
          if (!records.put_str(c, values.substr(0, len))) {
            records.clear();
            return Outcome::kError;
          }
          values.remove_prefix(len);
          break;
        }
      }
    }
    records.end_row();
    index.push_back(i);
  }
  columns.reset(records.build());
  return columns ? Outcome::kBuilt : Outcome::kError;
}

// --- BatchRows: binary rows ------------------------------------------------------------------

namespace {

// The record type of one Python value; false for anything a record cannot hold.
bool record_value(PyObject* o, RecordType& type, std::string& values) {
  if (o == nullptr || o == Py_None) {
    type = RecordType::kNull;
    return true;
  }
  if (PyBool_Check(o)) {
    type = RecordType::kBool;
    values.push_back(o == Py_True ? 1 : 0);
    return true;
  }
  if (PyFloat_Check(o)) {  // numpy.float64 too
    type = RecordType::kF64;
    binary_put(values, PyFloat_AS_DOUBLE(o));
    return true;
  }
  if (PyLong_Check(o)) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
      PyErr_Clear();
      return false;
    }
    type = RecordType::kI64;
    binary_put(values, static_cast<std::int64_t>(v));
    return true;
  }
  if (PyUnicode_Check(o)) {
    Py_ssize_t n = 0;
    const char* text = PyUnicode_AsUTF8AndSize(o, &n);
    if (!text || n > 0xffff) {
      PyErr_Clear();
      return false;
    }
    type = RecordType::kStr;
    binary_put(values, static_cast<std::uint16_t>(n));
    values.append(text, static_cast<std::size_t>(n));
    return true;
  }
  return false;
}

}  // namespace

PyObject* BatchRows::element(const Column& col, std::size_t i) {
  if (col.kind == Kind::kSeq) return PySequence_Fast_ITEMS(col.seq)[i];
  PyObject* o;
  // The column holds PyObject pointers: copy one pointer out.
  std::memcpy(&o, col.data + static_cast<std::ptrdiff_t>(i) * col.stride,
              sizeof o);  // NOLINT(bugprone-sizeof-expression)
  return o;
}

bool BatchRows::all_str(const Column& col) const {
  for (std::size_t i = 0; i < rows_; ++i) {
    PyObject* o = element(col, i);
    if (!o || !PyUnicode_Check(o)) return false;
  }
  return true;
}

void BatchRows::convert_uniform(Column& col) {
  if (rows_ == 0 || (col.kind != Kind::kObjArray && col.kind != Kind::kSeq)) return;
  PyObject* first = element(col, 0);
  if (!first) return;
  const Kind kind = PyBool_Check(first)    ? Kind::kBool
                    : PyLong_Check(first)  ? Kind::kI64
                    : PyFloat_Check(first) ? Kind::kF64
                                           : Kind::kSeq;
  if (kind == Kind::kSeq) return;
  std::vector<std::uint64_t>& out = col.converted;
  out.resize(rows_);
  for (std::size_t i = 0; i < rows_; ++i) {
    PyObject* o = element(col, i);
    if (!o) return;
    if (kind == Kind::kBool) {
      if (!PyBool_Check(o)) return;
      out[i] = o == Py_True ? 1 : 0;  // read as the first byte, little-endian
    } else if (kind == Kind::kI64) {
      if (!PyLong_Check(o) || PyBool_Check(o)) return;
      int overflow = 0;
      const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
      if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return;
      }
      std::memcpy(&out[i], &v, 8);
    } else {
      if (!PyFloat_Check(o)) return;
      const double d = PyFloat_AS_DOUBLE(o);
      std::memcpy(&out[i], &d, 8);
    }
  }
  col.kind = kind;
  col.data = reinterpret_cast<const char*>(out.data());
  col.stride = 8;
}

bool BatchRows::bind_binary(Schema schema) {
  for (Column& col : columns_) convert_uniform(col);
  binary_schema_ = schema;
  field_columns_.clear();
  shape_.clear();
  static_shape_ = false;
  if (schema != Schema::kRecord) {
    const std::vector<BinaryField>& fields = schema_fields(schema);
    std::size_t bound = 0;
    for (const BinaryField& field : fields) {
      int found = -1;
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        if (columns_[c].name == field.name) found = static_cast<int>(c);
      }
      if (found < 0 && field.kind != BinaryKind::kF64 && field.kind != BinaryKind::kOptU32) {
        return false;  // a required field is missing
      }
      if (found >= 0) {
        const Kind kind = columns_[found].kind;
        const bool generic = kind == Kind::kObjArray || kind == Kind::kSeq;
        const bool ok = field.kind == BinaryKind::kF64
                            ? kind == Kind::kF64 || kind == Kind::kI64 || generic
                        : field.kind == BinaryKind::kStr || field.kind == BinaryKind::kEnum
                            ? generic
                            : kind == Kind::kI64 || generic;
        if (!ok) return false;
        ++bound;
      }
      field_columns_.push_back(found);
    }
    return bound == columns_.size();  // an extra column has no place in the schema
  }
  static_shape_ = true;
  for (const Column& col : columns_) {
    if (col.name.size() > 0xff) return false;
    shape_.push_back(static_cast<char>(col.name.size()));
    shape_ += col.name;
    switch (col.kind) {
      case Kind::kF64:
        shape_.push_back(static_cast<char>(RecordType::kF64));
        break;
      case Kind::kI64:
        shape_.push_back(static_cast<char>(RecordType::kI64));
        break;
      case Kind::kBool:
        shape_.push_back(static_cast<char>(RecordType::kBool));
        break;
      default:
        if (all_str(col)) {  // a symbol column: one type for every row
          shape_.push_back(static_cast<char>(RecordType::kStr));
        } else {
          static_shape_ = false;  // types per row
        }
    }
  }
  return columns_.size() <= 0xffff && shape_.size() <= 0xffff;
}

bool BatchRows::write_binary_rows(PackedRows& out) {
  out.ends.assign(1, 0);
  if (!(binary_schema_ == Schema::kRecord && static_shape_)) {
    row_scratch_.clear();
    for (std::size_t r = 0; r < rows_; ++r) {
      if (!write_binary(r, row_scratch_)) return false;
      out.ends.push_back(row_scratch_.size());
    }
    std::memcpy(out.reserve(row_scratch_.size()), row_scratch_.data(), row_scratch_.size());
    return true;
  }
  std::vector<std::size_t>& ends = out.ends;
  // The hot case, column by column: row sizes first, then each column's values stored at each
  // row's cursor. Tight loops over one array at a time instead of a branch per cell.
  const std::size_t n = rows_;
  prefix_.assign({'P', 'F', static_cast<char>(kBinaryVersion), static_cast<char>(Schema::kRecord)});
  binary_put(prefix_, static_cast<std::uint16_t>(columns_.size()));
  binary_put(prefix_, static_cast<std::uint16_t>(shape_.size()));
  prefix_ += shape_;
  std::size_t fixed = prefix_.size();
  std::size_t str_columns = 0;
  for (const Column& col : columns_) {
    if (col.kind == Kind::kBool) {
      fixed += 1;
    } else if (col.kind == Kind::kF64 || col.kind == Kind::kI64) {
      fixed += 8;
    } else {
      fixed += 2;
      ++str_columns;
    }
  }
  cursors_.assign(n, fixed);  // row sizes, for now
  texts_.resize(str_columns * n);
  std::size_t s = 0;
  for (const Column& col : columns_) {
    if (col.kind == Kind::kBool || col.kind == Kind::kF64 || col.kind == Kind::kI64) continue;
    std::string_view* texts = texts_.data() + s++ * n;
    for (std::size_t r = 0; r < n; ++r) {
      PyObject* o = element(col, r);
      Py_ssize_t len = 0;
      const char* text;
      if (PyUnicode_IS_COMPACT_ASCII(o)) {  // all str (bind_binary checked); ASCII is its UTF-8
        text = static_cast<const char*>(PyUnicode_DATA(o));
        len = PyUnicode_GET_LENGTH(o);
      } else {
        text = PyUnicode_AsUTF8AndSize(o, &len);
      }
      if (!text || len > 0xffff) {
        PyErr_Clear();
        return false;
      }
      texts[r] = std::string_view(text, static_cast<std::size_t>(len));
      cursors_[r] += static_cast<std::size_t>(len);
    }
  }
  ends.resize(n + 1);
  for (std::size_t r = 0; r < n; ++r) ends[r + 1] = ends[r] + cursors_[r];
  char* base = out.reserve(ends[n]);
  std::size_t* cursor = cursors_.data();  // a local: stores through `base` may not alias it
  // Blocks of rows small enough that their output stays in L1 while every column visits it.
  constexpr std::size_t kBlock = 64;
  for (std::size_t begin = 0; begin < n; begin += kBlock) {
    const std::size_t end = std::min(n, begin + kBlock);
    for (std::size_t r = begin; r < end; ++r) {
      std::memcpy(base + ends[r], prefix_.data(), prefix_.size());
      cursor[r] = ends[r] + prefix_.size();
    }
    std::size_t s = 0;
    for (const Column& col : columns_) {
      const char* data = col.data;
      const std::ptrdiff_t stride = col.stride;
      if (col.kind == Kind::kF64 || col.kind == Kind::kI64) {
        // float64 and int64 are stored as the wire has them
        for (std::size_t r = begin; r < end; ++r) {
          std::memcpy(base + cursor[r], data + static_cast<std::ptrdiff_t>(r) * stride, 8);
          cursor[r] += 8;
        }
      } else if (col.kind == Kind::kBool) {
        for (std::size_t r = begin; r < end; ++r) {
          base[cursor[r]++] = data[static_cast<std::ptrdiff_t>(r) * stride] ? 1 : 0;
        }
      } else {
        const std::string_view* texts = texts_.data() + s++ * n;
        for (std::size_t r = begin; r < end; ++r) {
          const auto len = static_cast<std::uint16_t>(texts[r].size());
          std::memcpy(base + cursor[r], &len, 2);
          std::memcpy(base + cursor[r] + 2, texts[r].data(), len);
          cursor[r] += 2u + len;
        }
      }
    }
  }
  return true;
}

bool BatchRows::write_binary(std::size_t i, std::string& out) {
  out.append({'P', 'F', static_cast<char>(kBinaryVersion), static_cast<char>(binary_schema_)});
  if (binary_schema_ != Schema::kRecord) {
    const std::vector<BinaryField>& fields = schema_fields(binary_schema_);
    for (std::size_t f = 0; f < fields.size(); ++f) {
      const BinaryField& field = fields[f];
      const int c = field_columns_[f];
      if (c < 0) {  // an absent optional field
        if (field.kind == BinaryKind::kF64) {
          binary_put(out, std::numeric_limits<double>::quiet_NaN());
        } else {
          binary_put(out, kBinaryNoPairId);
        }
        continue;
      }
      const Column& col = columns_[c];
      const char* at = col.data + static_cast<std::ptrdiff_t>(i) * col.stride;
      double d = 0;
      long long x = 0;
      PyObject* o = nullptr;
      if (col.kind == Kind::kF64) {
        std::memcpy(&d, at, sizeof d);
      } else if (col.kind == Kind::kI64) {
        std::int64_t v;
        std::memcpy(&v, at, sizeof v);
        x = v;
        d = static_cast<double>(v);
      } else {
        o = element(col, i);
        if (field.kind == BinaryKind::kF64) {
          if (o == nullptr || o == Py_None) {
            d = std::numeric_limits<double>::quiet_NaN();
          } else if (PyFloat_Check(o)) {
            d = PyFloat_AS_DOUBLE(o);
          } else if (PyLong_Check(o) && !PyBool_Check(o)) {
            d = PyLong_AsDouble(o);
            if (d == -1 && PyErr_Occurred()) {
              PyErr_Clear();
              return false;
            }
          } else {
            return false;
          }
        } else if (field.kind != BinaryKind::kStr && field.kind != BinaryKind::kEnum) {
          if (o == nullptr || o == Py_None) {
            if (field.kind != BinaryKind::kOptU32) return false;
            x = -1;  // absent
          } else {
            if (!PyLong_Check(o) || PyBool_Check(o)) return false;
            int overflow = 0;
            x = PyLong_AsLongLongAndOverflow(o, &overflow);
            if (overflow || (x == -1 && PyErr_Occurred())) {
              PyErr_Clear();
              return false;
            }
          }
        }
      }
      switch (field.kind) {
        case BinaryKind::kF64:
          binary_put(out, d);
          break;
        case BinaryKind::kI64:
          binary_put(out, static_cast<std::int64_t>(x));
          break;
        case BinaryKind::kU64:
          if (x < 0) return false;
          binary_put(out, static_cast<std::uint64_t>(x));
          break;
        case BinaryKind::kU32:
        case BinaryKind::kOptU32:
          if (x == -1 && field.kind == BinaryKind::kOptU32) {
            binary_put(out, kBinaryNoPairId);
            break;
          }
          if (x < 0 || x >= static_cast<long long>(kBinaryNoPairId)) return false;
          binary_put(out, static_cast<std::uint32_t>(x));
          break;
        case BinaryKind::kStr:
        case BinaryKind::kEnum: {
          if (!o || !PyUnicode_Check(o)) return false;
          Py_ssize_t n = 0;
          const char* text = PyUnicode_AsUTF8AndSize(o, &n);
          if (!text) {
            PyErr_Clear();
            return false;
          }
          const std::string_view s(text, static_cast<std::size_t>(n));
          if (field.kind == BinaryKind::kStr) {
            if (s.size() > 0xffff) return false;
            binary_put(out, static_cast<std::uint16_t>(s.size()));
            out += s;
          } else {
            std::size_t v = 0;
            while (v < field.values.size() && s != field.values[v]) ++v;
            if (v == field.values.size()) return false;
            out.push_back(static_cast<char>(v));
          }
          break;
        }
      }
    }
    return true;
  }
  binary_put(out, static_cast<std::uint16_t>(columns_.size()));
  row_shape_.clear();
  row_values_.clear();
  for (const Column& col : columns_) {
    row_shape_.push_back(static_cast<char>(col.name.size()));
    row_shape_ += col.name;
    RecordType type;
    const char* at = col.data + static_cast<std::ptrdiff_t>(i) * col.stride;
    switch (col.kind) {
      case Kind::kF64:
      case Kind::kI64:
        type = col.kind == Kind::kF64 ? RecordType::kF64 : RecordType::kI64;
        row_values_.append(at, 8);
        break;
      case Kind::kBool:
        type = RecordType::kBool;
        row_values_.push_back(*at ? 1 : 0);
        break;
      default:
        if (!record_value(element(col, i), type, row_values_)) return false;
    }
    row_shape_.push_back(static_cast<char>(type));
  }
  if (row_shape_.size() > 0xffff) return false;
  binary_put(out, static_cast<std::uint16_t>(row_shape_.size()));
  out += row_shape_;
  out += row_values_;
  return true;
}

}  // namespace pairflow::embed::detail
