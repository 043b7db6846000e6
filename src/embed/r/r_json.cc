#include "embed/r/r_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "model/json.h"
#include "stream/job.h"

namespace pairflow::embed::r_internal {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using stream::JobError;

// Deeper nesting is almost surely a cycle or a mistake; R's own C stack would not like it either.
constexpr int kMaxDepth = 256;

SEXP make_string(std::string_view s) {
  return Rf_mkCharLenCE(s.data(), static_cast<int>(s.size()), CE_UTF8);
}

// Integers of the message being read that a double cannot hold (beyond 2^53: nanosecond
// timestamps). R sees the nearest double; when a double equal to it is written back, the
// writer puts the exact integer text instead, so a value passed through a job (`msg$ts`) comes
// out exactly as it came in. A computed value that rounds to the same double gets it too: the
// double could not tell them apart, and the exact input is the nearer guess. Bounded: a message
// with more such integers keeps the first kMaxExactInts.
struct ExactInt {
  double value;
  std::uint8_t size;
  char text[23];
};
constexpr std::size_t kMaxExactInts = 32;
constexpr double kTwoPow53 = 9007199254740992.0;
thread_local std::vector<ExactInt> g_exact_ints;

// The number of `e` as R will hold it, remembering an integer the double rounds.
double number_of(element e) {
  const double d = e.get_double().value_unsafe();
  if (std::fabs(d) < kTwoPow53 || g_exact_ints.size() >= kMaxExactInts) return d;
  ExactInt x{d, 0, {}};
  std::to_chars_result r;
  if (e.type() == element_type::INT64) {
    r = std::to_chars(x.text, x.text + sizeof x.text, e.get_int64().value_unsafe());
  } else if (e.type() == element_type::UINT64) {
    r = std::to_chars(x.text, x.text + sizeof x.text, e.get_uint64().value_unsafe());
  } else {
    return d;
  }
  x.size = static_cast<std::uint8_t>(r.ptr - x.text);
  g_exact_ints.push_back(x);
  return d;
}

// What an array can become: the narrowest R vector type holding all its elements.
enum class ArrayKind { kEmpty, kAllNull, kNumber, kString, kBool, kList };

ArrayKind classify(simdjson::dom::array array) {
  ArrayKind kind = ArrayKind::kEmpty;
  for (element e : array) {
    ArrayKind k;
    switch (e.type()) {
      case element_type::NULL_VALUE:
        if (kind == ArrayKind::kEmpty) kind = ArrayKind::kAllNull;
        continue;
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::DOUBLE:
        k = ArrayKind::kNumber;
        break;
      case element_type::STRING:
        k = ArrayKind::kString;
        break;
      case element_type::BOOL:
        k = ArrayKind::kBool;
        break;
      default:
        return ArrayKind::kList;
    }
    if (kind == ArrayKind::kEmpty || kind == ArrayKind::kAllNull) {
      kind = k;
    } else if (kind != k) {
      return ArrayKind::kList;
    }
  }
  return kind;
}

SEXP to_r(element e, int depth);

SEXP array_to_r(simdjson::dom::array array, int depth) {
  const ArrayKind kind = classify(array);
  if (kind == ArrayKind::kEmpty) return R_NilValue;
  const R_xlen_t n = static_cast<R_xlen_t>(array.size());
  R_xlen_t i = 0;
  switch (kind) {
    case ArrayKind::kNumber: {
      SEXP v = Rf_allocVector(REALSXP, n);
      double* p = REAL(v);
      for (element e : array) p[i++] = e.is_null() ? NA_REAL : number_of(e);
      return v;
    }
    case ArrayKind::kBool:
    case ArrayKind::kAllNull: {
      SEXP v = Rf_allocVector(LGLSXP, n);
      int* p = LOGICAL(v);
      for (element e : array) p[i++] = e.is_bool() ? e.get_bool().value_unsafe() : NA_LOGICAL;
      return v;
    }
    case ArrayKind::kString: {
      SEXP v = PROTECT(Rf_allocVector(STRSXP, n));
      for (element e : array) {
        SET_STRING_ELT(v, i++,
                       e.is_null() ? NA_STRING : make_string(e.get_string().value_unsafe()));
      }
      UNPROTECT(1);
      return v;
    }
    default: {
      SEXP v = PROTECT(Rf_allocVector(VECSXP, n));
      for (element e : array) SET_VECTOR_ELT(v, i++, to_r(e, depth + 1));
      UNPROTECT(1);
      return v;
    }
  }
}

// What R cannot hold, found before any R object is made (a JobError thrown while building would
// leave R's protect stack unbalanced, and R itself longjmps on an embedded NUL, which killed the
// process): strings with NUL characters (\u0000) and nesting beyond kMaxDepth.
void check_representable(element e, int depth) {
  if (depth > kMaxDepth) throw JobError("JSON nested deeper than 256 levels");
  auto check_string = [](std::string_view s, const char* what) {
    if (std::memchr(s.data(), '\0', s.size()) != nullptr) {
      throw JobError(std::string("a JSON ") + what +
                     " contains a NUL character (\\u0000), which R strings cannot hold");
    }
  };
  switch (e.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object object;
      if (e.get_object().get(object)) return;
      for (auto field : object) {
        check_string(field.key, "key");
        check_representable(field.value, depth + 1);
      }
      return;
    }
    case element_type::ARRAY: {
      simdjson::dom::array array;
      if (e.get_array().get(array)) return;
      for (element item : array) check_representable(item, depth + 1);
      return;
    }
    case element_type::STRING:
      check_string(e.get_string().value_unsafe(), "string");
      return;
    default:
      return;
  }
}

SEXP to_r(element e, int depth) {
  switch (e.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object object = e.get_object().value_unsafe();
      const R_xlen_t n = static_cast<R_xlen_t>(object.size());
      SEXP list = PROTECT(Rf_allocVector(VECSXP, n));
      SEXP names = PROTECT(Rf_allocVector(STRSXP, n));
      R_xlen_t i = 0;
      for (auto field : object) {
        SET_STRING_ELT(names, i, make_string(field.key));
        SET_VECTOR_ELT(list, i, to_r(field.value, depth + 1));
        ++i;
      }
      Rf_setAttrib(list, R_NamesSymbol, names);
      UNPROTECT(2);
      return list;
    }
    case element_type::ARRAY:
      return array_to_r(e.get_array().value_unsafe(), depth);
    case element_type::STRING:
      return Rf_ScalarString(make_string(e.get_string().value_unsafe()));
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return Rf_ScalarReal(number_of(e));
    case element_type::BOOL:
      return Rf_ScalarLogical(e.get_bool().value_unsafe() ? 1 : 0);
    case element_type::NULL_VALUE:
      return R_NilValue;
  }
  return R_NilValue;
}

// JSON string escaping (the text is UTF-8 already): the one implementation in model/json.h.
void append_string(const char* s, std::size_t n, std::string& out) {
  ::pairflow::append_json_string(out, std::string_view(s, n));
}

void append_charsxp(SEXP c, std::string& out) {
  if (c == NA_STRING) {
    out.append("null");
    return;
  }
  // Native strings are UTF-8 or ASCII in practice; only latin1 / bytes need translating.
  const cetype_t ce = Rf_getCharCE(c);
  if (ce == CE_UTF8 || ce == CE_NATIVE) {
    append_string(CHAR(c), static_cast<std::size_t>(LENGTH(c)), out);
  } else {
    const char* s = Rf_translateCharUTF8(c);
    append_string(s, std::strlen(s), out);
  }
}

void append_double(double v, std::string& out) {
  if (!std::isfinite(v)) {  // NA, NaN, Inf: JSON has no such numbers
    out.append("null");
    return;
  }
  // Shortest round-trip digits, laid out as JavaScript does: plain notation from 1e-7 to 1e21
  // (1000000, not 1e+06; timestamps in full), exponent notation outside.
  const double a = std::fabs(v);
  char buf[48];
  if (a >= kTwoPow53) {
    for (const ExactInt& x : g_exact_ints) {
      if (x.value == v) {
        out.append(x.text, x.size);
        return;
      }
    }
  }
  if (a < kTwoPow53 && v == static_cast<double>(static_cast<std::int64_t>(v))) {
    // Whole numbers (counts, sizes, ms timestamps) are common and print faster as integers.
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v));
    out.append(buf, r.ptr);
    return;
  }
  const auto format = (a == 0 || (a >= 1e-7 && a < 1e21)) ? std::chars_format::fixed
                                                          : std::chars_format::scientific;
  auto r = std::to_chars(buf, buf + sizeof buf, v, format);
  out.append(buf, r.ptr);
}

void append_int(int v, std::string& out) {
  if (v == NA_INTEGER) {
    out.append("null");
    return;
  }
  char buf[16];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_logical(int v, std::string& out) {
  out.append(v == NA_LOGICAL ? "null" : (v ? "true" : "false"));
}

bool is_factor(SEXP x) { return TYPEOF(x) == INTSXP && Rf_inherits(x, "factor"); }

void append_value(SEXP x, std::string& out, int depth);

// Element `i` of an atomic vector or list as one JSON value.
void append_element(SEXP x, R_xlen_t i, std::string& out, int depth) {
  switch (TYPEOF(x)) {
    case LGLSXP:
      append_logical(LOGICAL(x)[i], out);
      break;
    case INTSXP:
      if (is_factor(x)) {
        const int code = INTEGER(x)[i];
        SEXP levels = Rf_getAttrib(x, R_LevelsSymbol);
        if (code == NA_INTEGER || code < 1 || code > Rf_length(levels)) {
          out.append("null");
        } else {
          append_charsxp(STRING_ELT(levels, code - 1), out);
        }
      } else {
        append_int(INTEGER(x)[i], out);
      }
      break;
    case REALSXP:
      append_double(REAL(x)[i], out);
      break;
    case STRSXP:
      append_charsxp(STRING_ELT(x, i), out);
      break;
    case VECSXP:
      append_value(VECTOR_ELT(x, i), out, depth + 1);
      break;
    default:
      throw JobError("cannot convert " + describe_r_value(x) + " to JSON");
  }
}

void append_value(SEXP x, std::string& out, int depth) {
  if (depth > kMaxDepth) throw JobError("value nested deeper than 256 levels");
  const int type = TYPEOF(x);
  if (type == NILSXP) {
    out.append("null");
    return;
  }
  if (type != LGLSXP && type != INTSXP && type != REALSXP && type != STRSXP && type != VECSXP) {
    throw JobError("cannot convert " + describe_r_value(x) + " to JSON");
  }
  const R_xlen_t n = XLENGTH(x);
  if (type == VECSXP) {
    SEXP names = Rf_getAttrib(x, R_NamesSymbol);
    if (names == R_NilValue) {
      out.push_back('[');
      for (R_xlen_t i = 0; i < n; ++i) {
        if (i) out.push_back(',');
        append_value(VECTOR_ELT(x, i), out, depth + 1);
      }
      out.push_back(']');
      return;
    }
    out.push_back('{');
    for (R_xlen_t i = 0; i < n; ++i) {
      SEXP name = STRING_ELT(names, i);
      if (name == NA_STRING || LENGTH(name) == 0) {
        throw JobError("element " + std::to_string(i + 1) + " of a named list has no name");
      }
      if (i) out.push_back(',');
      append_charsxp(name, out);
      out.push_back(':');
      append_value(VECTOR_ELT(x, i), out, depth + 1);
    }
    out.push_back('}');
    return;
  }
  // Atomic vectors: R has no scalars, so length 1 is the natural stand-in for one.
  if (n == 1) {
    append_element(x, 0, out, depth);
    return;
  }
  out.push_back('[');
  for (R_xlen_t i = 0; i < n; ++i) {
    if (i) out.push_back(',');
    append_element(x, i, out, depth);
  }
  out.push_back(']');
}

}  // namespace

SEXP RJsonReader::read(std::string_view json) {
  simdjson::dom::element root;
  // simdjson copies the text into its own padded buffer, reused across messages.
  auto error = parser_.parse(json.data(), json.size(), true).get(root);
  if (error)
    throw JobError(std::string("payload is not valid JSON: ") + simdjson::error_message(error));
  g_exact_ints.clear();  // the previous message's
  check_representable(root, 0);
  return to_r(root, 0);
}

void append_json(SEXP x, std::string& out) { append_value(x, out, 0); }

void append_json_string(SEXP c, std::string& out) { append_charsxp(c, out); }

R_xlen_t data_frame_rows(SEXP df) { return XLENGTH(df) == 0 ? 0 : Rf_xlength(VECTOR_ELT(df, 0)); }

void append_json_row(SEXP df, R_xlen_t row, std::string& out) {
  SEXP names = Rf_getAttrib(df, R_NamesSymbol);
  out.push_back('{');
  for (R_xlen_t j = 0; j < XLENGTH(df); ++j) {
    if (j) out.push_back(',');
    append_charsxp(STRING_ELT(names, j), out);
    out.push_back(':');
    SEXP column = VECTOR_ELT(df, j);
    if (row >= Rf_xlength(column)) throw JobError("data frame column shorter than its rows");
    append_element(column, row, out, 1);
  }
  out.push_back('}');
}

std::string describe_r_value(SEXP x) {
  std::string what;
  switch (TYPEOF(x)) {
    case NILSXP:
      return "NULL";
    case LGLSXP:
      what = "a logical vector";
      break;
    case INTSXP:
      what = is_factor(x) ? "a factor" : "an integer vector";
      break;
    case REALSXP:
      what = "a numeric vector";
      break;
    case STRSXP:
      what = "a character vector";
      break;
    case VECSXP:
      what = Rf_inherits(x, "data.frame") ? "a data frame" : "a list";
      break;
    case CLOSXP:
    case BUILTINSXP:
    case SPECIALSXP:
      return "a function";
    case ENVSXP:
      return "an environment";
    default:
      return std::string("a value of type ") + Rf_type2char(TYPEOF(x));
  }
  return what + " (length " + std::to_string(Rf_xlength(x)) + ")";
}

}  // namespace pairflow::embed::r_internal
