// The built-in `bars` job (see jobs/builtin_jobs.h).
#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "features/time_bars.h"
#include "jobs/factories.h"
#include "jobs/params.h"
#include "jobs/warmup.h"
#include "model/json.h"
#include "model/json_parse.h"
#include "model/tick_check.h"
#include "stream/job.h"

namespace pairflow::jobs {
namespace {

class BarsJob : public stream::Job {
 public:
  void setup(stream::JobContext& ctx) override {
    Params params("bars", ctx.params_json());
    interval_ = params.duration("interval", kNanosPerMinute);
    if (interval_ <= 0) params.fail("interval", "a positive duration such as 1m");
    warmup_.configure(params);
  }
  void process(const stream::Message& m, stream::JobContext& ctx) override {
    if (warmup_.pending()) {  // the bar in progress at a restart is completed, not cut short
      warming_ = true;
      const auto n = warmup_.run(m.payload, symbols_, [&](const Tick& t) {
        Status s = on_tick(t, ctx);
        (void)s;
      });
      warming_ = false;
      ctx.metric("warmup_ticks", static_cast<double>(n));
    }
    auto tick = parser_.parse(m.payload, symbols_);
    if (!tick) throw stream::JobError(tick.status().message());
    std::string why;
    if (auto reason = check_tick_values(*tick, &why))
      throw stream::JobError(fmt::format("{}: {}", reject_reason_name(*reason), why));
    Status s = on_tick(*tick, ctx);
    if (!s) throw stream::JobError(s.message());
  }
  void finish(stream::JobContext& ctx) override {
    for (auto& agg : bars_) {
      agg->flush([&](Timestamp, std::span<const Bar> slice) { emit(slice, ctx); });
    }
  }

 private:
  Status on_tick(const Tick& tick, stream::JobContext& ctx) {
    while (bars_.size() <= tick.symbol) {
      bars_.push_back(std::make_unique<features::TimeBarAggregator>(interval_));
    }
    return bars_[tick.symbol]->on_tick(
        tick, [&](Timestamp, std::span<const Bar> slice) { emit(slice, ctx); });
  }
  void emit(std::span<const Bar> slice, stream::JobContext& ctx) {
    if (warming_) return;
    for (const Bar& bar : slice) ctx.emit("", symbols_.name(bar.symbol), to_json(bar, symbols_));
  }
  TickParser parser_;
  SymbolTable symbols_;
  Timestamp interval_ = kNanosPerMinute;
  // One aggregator per symbol: a symbol's bar closes when that symbol's event time passes its end,
  // which needs only per-key order - what a partitioned Kafka topic keyed by symbol guarantees.
  std::vector<std::unique_ptr<features::TimeBarAggregator>> bars_;
  HistoryWarmup warmup_;
  bool warming_ = false;
};

}  // namespace

std::unique_ptr<stream::Job> make_bars_job() { return std::make_unique<BarsJob>(); }

}  // namespace pairflow::jobs
