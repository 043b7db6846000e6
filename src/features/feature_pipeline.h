// FeaturePipeline: ticks -> bars (time, tick, volume or dollar) -> indicator rows, the one code
// path shared by the streaming bars/features jobs, `pairflow features` and the benchmarks.
//
// parse_bar_spec reads "1s" / "500ms" / "1m" (time bars, any duration), "tick:N", "volume:X" or
// "dollar:X" (threshold bars). Each closed bar produces one row: on_row(const Bar&,
// std::span<const double> indicator_values), in emission order (time bars: by interval, then
// symbol id). Ticks are validated (finite price > 0, finite size >= 0) before they reach a bar; a
// rejected tick changes no state and its Status says why (kInvalidArgument or kOutOfOrder for a
// late tick); late ticks are also counted by the aggregator.
//
// Lifecycle: construct, on_tick per tick, flush() once at the end of a finite input. No
// allocation per tick once every symbol has been seen. Single-threaded.
#pragma once

#include <cmath>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "features/indicator_engine.h"
#include "features/threshold_bars.h"
#include "features/time_bars.h"
#include "model/tick_check.h"

namespace pairflow::features {

enum class BarKind : std::uint8_t { kTime, kTick, kVolume, kDollar };

struct BarSpec {
  BarKind kind = BarKind::kTime;
  Timestamp interval = kNanosPerMinute;  // time bars
  double threshold = 0;                  // tick / volume / dollar bars
  Timestamp allowed_lateness = 0;
};

// kInvalidArgument with a one-line reason on bad text.
Result<BarSpec> parse_bar_spec(std::string_view text);

class FeaturePipeline {
 public:
  // `symbols` resolves corr references (may be null without corr); it must outlive the pipeline.
  FeaturePipeline(const BarSpec& bars, std::vector<IndicatorSpec> indicators,
                  const SymbolTable* symbols = nullptr)
      : spec_(bars),
        time_(bars.kind == BarKind::kTime ? bars.interval : kNanosPerSecond, bars.allowed_lateness),
        threshold_(bars.kind == BarKind::kVolume   ? ThresholdKind::kVolume
                   : bars.kind == BarKind::kDollar ? ThresholdKind::kDollar
                                                   : ThresholdKind::kTick,
                   bars.kind == BarKind::kTime ? 1.0 : bars.threshold, bars.allowed_lateness),
        engine_(std::move(indicators), symbols) {}

  const BarSpec& bar_spec() const { return spec_; }
  const IndicatorEngine& engine() const { return engine_; }
  std::uint64_t late_rejected() const {
    return spec_.kind == BarKind::kTime ? time_.late_rejected() : threshold_.late_rejected();
  }
  std::uint64_t bars() const { return bars_; }

  template <typename OnRow>
  Status on_tick(const Tick& tick, OnRow&& on_row) {
    std::string why;
    if (auto reason = check_tick_values(tick, &why))
      return Status(StatusCode::kInvalidArgument, std::move(why));
    if (spec_.kind == BarKind::kTime) {
      return time_.on_tick(tick, [&](Timestamp, std::span<const Bar> slice) {
        bars_ += slice.size();
        engine_.on_slice(slice, on_row);
      });
    }
    return threshold_.on_tick(tick, [&](const Bar& bar) {
      ++bars_;
      engine_.on_bar(bar, on_row);
    });
  }

  // Emits the last partial bars (end of a finite input).
  template <typename OnRow>
  void flush(OnRow&& on_row) {
    if (spec_.kind == BarKind::kTime) {
      time_.flush([&](Timestamp, std::span<const Bar> slice) {
        bars_ += slice.size();
        engine_.on_slice(slice, on_row);
      });
    } else {
      threshold_.flush([&](const Bar& bar) {
        ++bars_;
        engine_.on_bar(bar, on_row);
      });
    }
  }

 private:
  BarSpec spec_;
  TimeBarAggregator time_;
  ThresholdBarAggregator threshold_;
  IndicatorEngine engine_;
  std::uint64_t bars_ = 0;
};

}  // namespace pairflow::features
