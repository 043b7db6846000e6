// Test helper: loads tests/golden/stats_golden.json once (via PAIRFLOW_SOURCE_DIR).
// Test-only; not part of the library.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace pairflow::stats {

struct Golden {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::map<std::string, std::vector<double>> series;
};

inline const Golden& golden() {
  static Golden* g = [] {
    auto* out = new Golden;
    const char* root = std::getenv("PAIRFLOW_SOURCE_DIR");
    const std::string path =
        std::string(root ? root : PAIRFLOW_SOURCE_DIR_FALLBACK) + "/tests/golden/stats_golden.json";
    auto loaded = out->parser.load(path);
    if (loaded.error()) {
      ADD_FAILURE() << "cannot load " << path << ": " << simdjson::error_message(loaded.error());
      std::abort();
    }
    out->doc = loaded.value();
    for (auto [key, value] : out->doc["series"].get_object()) {
      std::vector<double>& v = out->series[std::string(key)];
      for (simdjson::dom::element e : value.get_array()) v.push_back(double(e));
    }
    return out;
  }();
  return *g;
}

inline std::string str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

// |got - want| <= rel * |want| (+ abs_floor for values that are ~0).
inline void expect_rel(double got, double want, double rel, const std::string& label,
                       double abs_floor = 0) {
  EXPECT_LE(std::fabs(got - want), rel * std::fabs(want) + abs_floor)
      << label << ": got " << got << " want " << want << " rel err "
      << std::fabs(got - want) / std::fabs(want);
}

}  // namespace pairflow::stats
