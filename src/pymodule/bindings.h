// The parts of the pairflow._core extension module, each registering its functions.
#pragma once

#include <pybind11/pybind11.h>

namespace pairflow::pymodule {

void bind_stats(pybind11::module_& m);   // stats_bindings.cc: statistics, the screen
void bind_engine(pybind11::module_& m);  // engine_bindings.cc: features, gen, backtest

}  // namespace pairflow::pymodule
