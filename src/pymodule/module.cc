// pairflow._core: the C++ engine as a CPython extension module. The Python package `pairflow`
// (python/pairflow) wraps it with the pandas-facing API; nothing here is meant to be called
// directly. Loaded once per interpreter; every function may be called from any Python thread
// (each call uses its own state; the GIL is released while the engine computes).
#include <pybind11/pybind11.h>

#include "base/status.h"
#include "pymodule/bindings.h"
#include "pymodule/convert.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "pairflow's C++ engine (use the pairflow package, not this module)";
  pairflow::pymodule::register_error(m);
  // A UserError is the one-line message the CLI would print: pairflow.Error.
  pybind11::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const pairflow::UserError& e) {
      try {
        pairflow::pymodule::raise_error(e.what());
      } catch (pybind11::error_already_set& set) {
        set.restore();
      }
    }
  });
  pairflow::pymodule::bind_stats(m);
  pairflow::pymodule::bind_engine(m);
}
