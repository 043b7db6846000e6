// Conversions between numpy / Python objects and the engine's spans and vectors, for the Python
// module (`import pairflow`). Inputs are read in place when their layout allows (float64,
// contiguous where a span is needed, any strides where a strided view is enough); outputs are
// numpy arrays that own the engine's vectors (no copy). All calls hold the GIL; the computations
// that use the spans release it.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "screen/table_screen.h"

namespace pairflow::pymodule {

namespace py = pybind11;

// pairflow.Error (a ValueError): what the CLI reports as a one-line error.
void register_error(py::module_& m);
[[noreturn]] void raise_error(const std::string& message);

// A float64 series: the caller's buffer when it is a contiguous float64 1-D array (or an n x 1
// column), otherwise a converted copy. `what` names it in errors ("adf: x").
struct Series {
  py::array holder;
  std::span<const double> values;
  bool borrowed = false;
};
Series as_series(py::handle object, const std::string& what);

// A float64 matrix (rows = observations, columns = series), viewed in place whenever it is
// float64 (a pandas DataFrame of float64 columns is column-major already); with
// `contiguous_columns` a layout whose columns are not contiguous is copied into one that is.
struct Matrix {
  py::array holder;
  screen::PriceTable table;
  bool borrowed = false;
  std::span<const double> column(int c) const {
    return {table.data + c * table.col_stride, static_cast<std::size_t>(table.rows)};
  }
};
Matrix as_matrix(py::handle object, const std::string& what, bool contiguous_columns);

// A numpy array that takes ownership of `values` (no copy).
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& values) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(owned->size())}, {sizeof(T)}, owned->data(),
                        free_when_done);
}
// rows x cols, column-major (Fortran order), from a column-major vector.
py::array_t<double> to_numpy_matrix(std::vector<double>&& colmajor, std::size_t rows,
                                    std::size_t cols);

// Optional integer / double / string arguments (None = unset).
std::optional<int> optional_int(py::handle object, const char* what);

}  // namespace pairflow::pymodule
