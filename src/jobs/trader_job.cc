// The built-in `trader` job (see jobs/builtin_jobs.h).
#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/engine.h"
#include "engine/pair_selection.h"
#include "exec/wire.h"
#include "jobs/factories.h"
#include "jobs/params.h"
#include "jobs/warmup.h"
#include "model/json.h"
#include "model/json_parse.h"
#include "model/topics.h"
#include "screen/orchestrator.h"
#include "stream/job.h"

namespace pairflow::jobs {
namespace {

class TraderJob : public stream::Job, private engine::EngineObserver, private engine::IntentSink {
 public:
  bool needs_event_time_order() const override { return true; }
  void setup(stream::JobContext& ctx) override {
    Params params("trader", ctx.params_json());
    const std::string config_path = params.string("config", "");
    try {
      config_ = config_path.empty() ? engine::EngineConfig{} : engine::load_config(config_path);
      engine::apply_overrides(config_, params.strings("set"));
    } catch (const UserError& e) {
      throw stream::JobError(fmt::format("trader: {}", e.what()));
    }
    warmup_.configure(params);
    if (!params.string("screener_topic", "").empty())
      screener_topic_ = params.topic("screener_topic", "");
    ctx_ = &ctx;
    // Decisions go out as intents on `orders`; the `execution` job trades them.
    pipeline_ = std::make_unique<engine::Engine>(config_, symbols_,
                                                 static_cast<engine::EngineObserver*>(this),
                                                 static_cast<engine::IntentSink*>(this));
  }
  void process(const stream::Message& m, stream::JobContext& ctx) override {
    ctx_ = &ctx;
    if (warmup_.pending()) {
      warming_ = true;  // the screener and pair models learn; nothing is published
      const auto n = warmup_.run(m.payload, symbols_, [&](const Tick& t) {
        Status s = pipeline_->on_tick(t);
        (void)s;  // the recorded ticks were accepted once; a reject is counted in the summary
      });
      warming_ = false;
      ctx.metric("warmup_ticks", static_cast<double>(n));
      ctx.log(stream::LogLevel::kInfo,
              fmt::format("warmed up from {} recorded ticks of {}", n, warmup_.path()));
    }
    auto tick = parser_.parse(m.payload, symbols_);
    if (!tick) throw stream::JobError(tick.status().message());
    Status s = pipeline_->on_tick(*tick);
    if (!s) throw stream::JobError(s.message());
    publish_screen(tick->ts);
  }
  void finish(stream::JobContext& ctx) override {
    ctx_ = &ctx;
    pipeline_->finish();
    ctx.emit("", "summary", pipeline_->summary().to_json());
  }

 private:
  // After a screen ran: its candidates on `screener_topic` (the dashboard's screener panel when
  // the ui job reads the topics), one record per screen under one key.
  void publish_screen(Timestamp now) {
    const engine::PairSelection* selection = pipeline_->selection();
    if (screener_topic_.empty() || !selection || selection->screens() == screens_published_) return;
    screens_published_ = selection->screens();
    ctx_->emit(screener_topic_, "screener", engine::screener_json(*selection, symbols_, now));
  }
  void on_signal(const Signal& s) override {
    if (warming_) return;
    ctx_->emit(topics::kSignals, std::to_string(s.pair), to_json(s));
  }
  void on_order(const Order&) override {}
  void on_execution(const Execution&) override {}
  void on_pnl(const PnL&) override {}
  // One key: intents and slice marks stay in one partition, in decision order.
  void on_intent(const exec::SpreadIntent& intent) override {
    if (warming_) return;
    ctx_->emit(topics::kOrders, "trader", exec::intent_to_json(intent, symbols_));
  }
  void on_slice(Timestamp now, bool trading) override {
    if (warming_) return;
    ctx_->emit(topics::kOrders, "trader", exec::slice_to_json(now, trading));
  }
  void on_control(const screen::PairControl& c) override {
    if (warming_) return;
    ctx_->emit(topics::kPairsControl, std::to_string(c.pair), screen::to_json(c, symbols_));
  }

  engine::EngineConfig config_;
  SymbolTable symbols_;
  TickParser parser_;
  std::unique_ptr<engine::Engine> pipeline_;
  stream::JobContext* ctx_ = nullptr;
  HistoryWarmup warmup_;
  bool warming_ = false;
  std::string screener_topic_;  // "" = screens are not published
  std::uint64_t screens_published_ = 0;
};

}  // namespace

std::unique_ptr<stream::Job> make_trader_job() { return std::make_unique<TraderJob>(); }

}  // namespace pairflow::jobs
