#include "pymodule/convert.h"

#include <fmt/format.h>

#include <optional>

namespace pairflow::pymodule {
namespace {

PyObject* g_error = nullptr;

py::array as_numeric_array(py::handle object, const std::string& what) {
  if (object.is_none()) throw py::type_error(what + ": expected numbers, got None");
  py::array array(py::module_::import("numpy").attr("asarray")(object));
  const char kind = array.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw py::type_error(
        fmt::format("{}: expected numbers, got dtype {} (float64 is read without "
                    "a copy)",
                    what, py::str(array.dtype()).cast<std::string>()));
  return array;
}

// Native-endian float64 (numpy's equivalence test, as pybind11's array_t<double> uses).
bool is_float64(const py::array& array) { return py::array_t<double>::check_(array); }

}  // namespace

void register_error(py::module_& m) {
  static py::exception<std::runtime_error> error(m, "Error", PyExc_ValueError);
  g_error = error.ptr();
  error.doc() = "A pairflow error: bad input or options, with the CLI's one-line message.";
}

void raise_error(const std::string& message) {
  PyErr_SetString(g_error, message.c_str());
  throw py::error_already_set();
}

Series as_series(py::handle object, const std::string& what) {
  py::array array = as_numeric_array(object, what);
  if (array.ndim() == 2 && array.shape(1) == 1)
    array = py::array(array.attr("reshape")(array.shape(0)));
  if (array.ndim() != 1)
    throw py::value_error(
        fmt::format("{}: expected one series (1-D), got {} dimensions", what, array.ndim()));
  Series out;
  const bool in_place = is_float64(array) && (array.flags() & py::array::c_style);
  if (!in_place)
    array = py::array(py::module_::import("numpy").attr("ascontiguousarray")(array, "float64"));
  out.holder = array;
  out.borrowed = in_place;
  out.values = {static_cast<const double*>(array.data()), static_cast<std::size_t>(array.size())};
  return out;
}

Matrix as_matrix(py::handle object, const std::string& what, bool contiguous_columns) {
  py::array array = as_numeric_array(object, what);
  if (array.ndim() != 2)
    throw py::value_error(fmt::format(
        "{}: expected a table (2-D: rows = observations, columns = series), got {} dimension{}",
        what, array.ndim(), array.ndim() == 1 ? "" : "s"));
  const bool fortran = (array.flags() & py::array::f_style) != 0;
  bool in_place = is_float64(array) && (!contiguous_columns || fortran || array.shape(0) <= 1);
  if (!in_place)
    array = py::array(py::module_::import("numpy").attr("asfortranarray")(array, "float64"));
  Matrix out;
  out.holder = array;
  out.borrowed = in_place;
  out.table.data = static_cast<const double*>(array.data());
  out.table.rows = static_cast<int>(array.shape(0));
  out.table.cols = static_cast<int>(array.shape(1));
  out.table.row_stride = array.strides(0) / static_cast<py::ssize_t>(sizeof(double));
  out.table.col_stride = array.strides(1) / static_cast<py::ssize_t>(sizeof(double));
  if (out.table.rows <= 1 && contiguous_columns) out.table.col_stride = out.table.rows;
  return out;
}

py::array_t<double> to_numpy_matrix(std::vector<double>&& colmajor, std::size_t rows,
                                    std::size_t cols) {
  auto* owned = new std::vector<double>(std::move(colmajor));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<double>*>(p); });
  return py::array_t<double>(
      {static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)},
      {static_cast<py::ssize_t>(sizeof(double)), static_cast<py::ssize_t>(rows * sizeof(double))},
      owned->data(), free_when_done);
}

std::optional<int> optional_int(py::handle object, const char* what) {
  if (object.is_none()) return std::nullopt;
  if (!PyLong_Check(object.ptr()) || PyBool_Check(object.ptr()))
    throw py::type_error(fmt::format("{}: expected an int or None", what));
  return object.cast<int>();
}

}  // namespace pairflow::pymodule
