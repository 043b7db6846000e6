// The built-in `features` job (see jobs/builtin_jobs.h).
#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "features/feature_pipeline.h"
#include "jobs/factories.h"
#include "jobs/params.h"
#include "jobs/warmup.h"
#include "model/json.h"
#include "model/json_parse.h"
#include "stream/job.h"

namespace pairflow::jobs {
namespace {

// features  ticks -> features.<name>: FeaturePipeline; params {bars = "1m" | "tick:N" |
// "volume:X" | "dollar:X", indicators = "ema:10,rsi:14,...", lateness = "0"}. One JSON row per
// closed bar: {ts, symbol, open, high, low, close, volume, vwap, count, <indicator columns>}
// (null while an indicator warms up). A late tick goes to the DLQ with its reason.
class FeaturesJob : public stream::Job {
 public:
  void setup(stream::JobContext& ctx) override {
    Params params("features", ctx.params_json());
    auto bars = features::parse_bar_spec(params.string("bars", "1m"));
    if (!bars) throw stream::JobError(fmt::format("features: {}", bars.status().message()));
    bars->allowed_lateness = params.duration("lateness", 0);
    auto specs = features::parse_indicators(params.string("indicators", ""));
    if (!specs) throw stream::JobError(fmt::format("features: {}", specs.status().message()));
    pipeline_ = std::make_unique<features::FeaturePipeline>(*bars, *specs, &symbols_);
    warmup_.configure(params);
  }
  void process(const stream::Message& m, stream::JobContext& ctx) override {
    if (warmup_.pending()) {  // indicator windows fill from history; their rows are not emitted
      const auto n = warmup_.run(m.payload, symbols_, [&](const Tick& t) {
        Status s = pipeline_->on_tick(t, [](const Bar&, std::span<const double>) {});
        (void)s;
      });
      ctx.metric("warmup_ticks", static_cast<double>(n));
    }
    auto tick = parser_.parse(m.payload, symbols_);
    if (!tick) throw stream::JobError(tick.status().message());
    Status s = pipeline_->on_tick(
        *tick, [&](const Bar& b, std::span<const double> v) { emit(b, v, ctx); });
    if (!s) throw stream::JobError(s.message());
  }
  void finish(stream::JobContext& ctx) override {
    pipeline_->flush([&](const Bar& b, std::span<const double> v) { emit(b, v, ctx); });
  }

 private:
  void emit(const Bar& b, std::span<const double> values, stream::JobContext& ctx) {
    std::string json = to_json(b, symbols_);
    json.pop_back();  // the closing brace: append the indicator columns
    const auto& specs = pipeline_->engine().specs();
    for (std::size_t i = 0; i < values.size(); ++i)
      json += fmt::format(",{}:{}", json_string(specs[i].column), json_number(values[i]));
    json += '}';
    ctx.emit("", symbols_.name(b.symbol), json);
  }
  TickParser parser_;
  SymbolTable symbols_;
  std::unique_ptr<features::FeaturePipeline> pipeline_;
  HistoryWarmup warmup_;
};

}  // namespace

std::unique_ptr<stream::Job> make_features_job() { return std::make_unique<FeaturesJob>(); }

}  // namespace pairflow::jobs
