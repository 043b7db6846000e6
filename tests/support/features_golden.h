// Test helper: loads tests/golden/features_golden.json once (via PAIRFLOW_SOURCE_DIR).
// Test-only; not part of the library. Single-threaded (gtest main thread).
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "model/messages.h"

namespace pairflow::features::testing {

inline simdjson::dom::element golden() {
  static simdjson::dom::parser* parser = new simdjson::dom::parser;
  static simdjson::dom::element doc = [] {
    const char* root = std::getenv("PAIRFLOW_SOURCE_DIR");
    const std::string path = std::string(root ? root : PAIRFLOW_SOURCE_DIR_DEFAULT) +
                             "/tests/golden/features_golden.json";
    auto loaded = parser->load(path);
    if (loaded.error()) {
      ADD_FAILURE() << "cannot load " << path << ": " << simdjson::error_message(loaded.error());
      std::abort();
    }
    return loaded.value();
  }();
  return doc;
}

// A JSON number (integer or float) or null (NaN).
inline double num(simdjson::dom::element e) {
  if (e.is_null()) return kNaN;
  if (e.is_int64()) return static_cast<double>(std::int64_t(e));
  if (e.is_uint64()) return static_cast<double>(std::uint64_t(e));
  return double(e);
}

inline std::vector<Tick> golden_ticks() {
  std::vector<Tick> out;
  for (simdjson::dom::element row : golden()["ticks"].get_array()) {
    simdjson::dom::array a = row.get_array();
    Tick t;
    t.ts = std::int64_t(a.at(0));
    t.symbol = static_cast<SymbolId>(std::int64_t(a.at(1)));
    t.price = num(a.at(2));
    t.size = num(a.at(3));
    out.push_back(t);
  }
  return out;
}

inline Bar golden_bar(simdjson::dom::array a) {
  Bar b;
  b.ts = std::int64_t(a.at(0));
  b.symbol = static_cast<SymbolId>(std::int64_t(a.at(1)));
  b.open = num(a.at(2));
  b.high = num(a.at(3));
  b.low = num(a.at(4));
  b.close = num(a.at(5));
  if (a.size() > 6) {
    b.volume = num(a.at(6));
    b.vwap = num(a.at(7));
    b.count = static_cast<std::uint32_t>(std::int64_t(a.at(8)));
  }
  return b;
}

// |got - want| <= tol * max(1, |want|); both NaN also match.
inline ::testing::AssertionResult near(double got, double want, double tol = 1e-9) {
  if (std::isnan(want) && std::isnan(got)) return ::testing::AssertionSuccess();
  if (std::isnan(want) != std::isnan(got) ||
      !(std::fabs(got - want) <= tol * std::max(1.0, std::fabs(want)))) {
    return ::testing::AssertionFailure() << "got " << got << " want " << want;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace pairflow::features::testing
