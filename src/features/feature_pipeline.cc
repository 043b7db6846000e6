#include "features/feature_pipeline.h"

#include <string>

#include "base/csv.h"

namespace pairflow::features {

Result<BarSpec> parse_bar_spec(std::string_view text) {
  BarSpec spec;
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    auto interval = parse_duration(text);
    if (!interval) {
      return Status(StatusCode::kInvalidArgument,
                    "bars '" + std::string(text) + "': " + interval.status().message() +
                        " (expected a duration such as 1s or 1m, or tick:N, volume:X, dollar:X)");
    }
    if (*interval <= 0)
      return Status(StatusCode::kInvalidArgument, "bars '" + std::string(text) + "': must be > 0");
    spec.kind = BarKind::kTime;
    spec.interval = *interval;
    return spec;
  }
  const std::string_view kind = text.substr(0, colon);
  const std::string_view value = text.substr(colon + 1);
  if (kind == "tick") {
    spec.kind = BarKind::kTick;
  } else if (kind == "volume") {
    spec.kind = BarKind::kVolume;
  } else if (kind == "dollar") {
    spec.kind = BarKind::kDollar;
  } else {
    return Status(StatusCode::kInvalidArgument,
                  "bars '" + std::string(text) + "': unknown kind (tick:N, volume:X, dollar:X)");
  }
  auto v = parse_double(value);
  if (!v || !(*v > 0) || (spec.kind == BarKind::kTick && (*v != std::floor(*v) || *v > 4e9))) {
    return Status(StatusCode::kInvalidArgument,
                  "bars '" + std::string(text) + "': threshold must be a " +
                      (spec.kind == BarKind::kTick ? "whole number of ticks >= 1" : "number > 0"));
  }
  spec.threshold = *v;
  return spec;
}

}  // namespace pairflow::features
