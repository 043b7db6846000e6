// The built-in jobs as the runtime drives them.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "jobs/builtin_jobs.h"
#include "jobs/kafka_journal.h"
#include "model/json.h"

namespace pairflow::jobs {
namespace {

// Collects what a job emits.
class CollectingContext : public stream::JobContext {
 public:
  explicit CollectingContext(std::string params) : params_(std::move(params)) {}
  void emit(std::string_view, std::string_view key, std::string_view json) override {
    out.push_back(std::string(key) + " " + std::string(json));
  }
  void log(stream::LogLevel, std::string_view) override {}
  void metric(std::string_view, double) override {}
  const std::string& job_name() const override { return name_; }
  const std::string& output_topic() const override { return name_; }
  const std::string& params_json() const override { return params_; }
  std::vector<std::string> out;

 private:
  std::string name_ = "pair_actors", params_;
};

// An activation, then bars of two cointegrated legs (y = 0.8 x + a mean-reverting spread).
std::vector<stream::Message> pair_actor_input() {
  std::vector<stream::Message> in;
  auto add = [&](std::string payload) {
    in.push_back(stream::Message{.topic = "pairs.bars", .key = "7", .payload = std::move(payload)});
  };
  add(R"({"pair":7,"action":"activate","y":"YY","x":"XX","entry_z":1.5,"exit_z":0.3,)"
      R"("stop_z":3.5,"max_hold_bars":40})");
  std::uint64_t state = 12345;
  auto noise = [&] {  // deterministic, centred
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5;
  };
  double x = 4.0, spread = 0;
  for (int i = 0; i < 400; ++i) {
    x += 0.01 * noise();
    spread = 0.85 * spread + 0.02 * noise();
    const double y = 0.8 * x + 1.0 + spread;
    const std::int64_t ts = 1704205800000000000LL + 60000000000LL * i;
    // The legs alternate which arrives first.
    const std::string by = fmt::format(R"({{"pair":7,"ts":{},"symbol":"YY","close":{}}})", ts,
                                       json_number(std::exp(y)));
    const std::string bx = fmt::format(R"({{"pair":7,"ts":{},"symbol":"XX","close":{}}})", ts,
                                       json_number(std::exp(x)));
    add(i % 2 ? by : bx);
    add(i % 2 ? bx : by);
  }
  return in;
}

TEST(PairActorsJob, RestartFromItsCheckpointContinuesExactly) {
  const std::string params = R"({"window":30})";
  const auto input = pair_actor_input();
  CollectingContext whole_ctx(params);
  auto whole = make_builtin_job("pair_actors");
  whole->setup(whole_ctx);
  for (const auto& m : input) whole->process(m, whole_ctx);
  ASSERT_GE(whole_ctx.out.size(), 6u) << "the input should trade a few times";

  // Stopped at several points (mid-window, one leg's bar waiting, in a position), restored into a
  // fresh instance: the signals are the same to the byte.
  for (std::size_t stop : {10u, 61u, 333u, 500u, 777u}) {
    CollectingContext ctx(params);
    std::string saved;
    {
      auto first = make_builtin_job("pair_actors");
      first->setup(ctx);
      for (std::size_t i = 0; i < stop; ++i) first->process(input[i], ctx);
      saved = first->snapshot_state();
    }
    auto second = make_builtin_job("pair_actors");
    second->setup(ctx);
    second->restore_state(saved);
    for (std::size_t i = stop; i < input.size(); ++i) second->process(input[i], ctx);
    EXPECT_EQ(ctx.out, whole_ctx.out) << "stopped after " << stop << " messages";
    EXPECT_EQ(second->snapshot_state(), whole->snapshot_state());
  }

  // A checkpoint that does not fit is a clear start-up error.
  auto other = make_builtin_job("pair_actors");
  CollectingContext wide(R"({"window":60})");
  other->setup(wide);
  try {
    other->restore_state(whole->snapshot_state());
    ADD_FAILURE() << "a checkpoint with another window was accepted";
  } catch (const stream::JobError& e) {
    EXPECT_NE(std::string(e.what()).find("window is 60"), std::string::npos) << e.what();
  }
  EXPECT_THROW(other->restore_state(R"([{"pair":1}])"), stream::JobError);
  EXPECT_THROW(other->restore_state("{}"), stream::JobError);
}

}  // namespace
}  // namespace pairflow::jobs

namespace pairflow::jobs {
namespace {

TEST(BuiltinJobs, ParamsThatNameTopicsAreCheckedAtSetup) {
  for (const auto& [job, params, key] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"pair_router", R"({"control":"pairs control"})", "control"},
           {"execution", R"({"ticks":"ticks/us"})", "ticks"},
           {"bars", R"({"warmup":"all","history":"h.db","warmup_topic":""})", "warmup_topic"}}) {
    SCOPED_TRACE(job);
    auto j = make_builtin_job(job);
    CollectingContext ctx(params);
    try {
      j->setup(ctx);
      ADD_FAILURE() << "a bad topic name was accepted";
    } catch (const stream::JobError& e) {
      EXPECT_NE(std::string(e.what()).find(job + ": param '" + key + "' must be a topic name"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(KafkaJournalRecords, RoundTripAndRefuseGarbage) {
  SymbolTable symbols;
  exec::OrderRecord r;
  r.order = Order{.client_order_id = 18'000'000'000'000'000'001ULL,
                  .ts = 1'700'000'000'000'000'000,
                  .symbol = symbols.intern("KO"),
                  .side = Side::kSell,
                  .qty = 150,
                  .type = OrderType::kMarket,
                  .pair = 3};
  r.intent = 42;
  r.role = exec::LegRole::kChase;
  r.status = exec::OrderStatus::kPartiallyFilled;
  r.filled = 50;
  r.avg_price = 61.25;
  r.fees = 0.5;
  r.updated = r.order.ts + 7;
  r.reason = "say \"why\"";
  SymbolTable other;  // a restart numbers symbols afresh
  other.intern("PEP");
  auto back = order_record_from_json(to_json(r, symbols), other);
  ASSERT_TRUE(back) << back.status().message();
  EXPECT_EQ(back->order.client_order_id, r.order.client_order_id);
  EXPECT_EQ(other.name(back->order.symbol), "KO");
  EXPECT_EQ(back->order.side, Side::kSell);
  EXPECT_TRUE(std::isnan(back->order.limit));
  EXPECT_TRUE(std::isnan(back->ideal_price));
  EXPECT_EQ(back->order.pair, 3u);
  EXPECT_EQ(back->role, exec::LegRole::kChase);
  EXPECT_EQ(back->status, exec::OrderStatus::kPartiallyFilled);
  EXPECT_EQ(back->filled, 50);
  EXPECT_EQ(back->avg_price, 61.25);
  EXPECT_EQ(back->reason, r.reason);
  exec::IntentRecord i;
  i.intent = exec::SpreadIntent{.id = 9,
                                .pair = 3,
                                .ts = 5,
                                .kind = exec::IntentKind::kExit,
                                .y = {symbols.intern("KO"), 0},
                                .x = {symbols.intern("PEP"), 0}};
  i.done = true;
  i.attempts = 2;
  auto ib = intent_record_from_json(to_json(i, symbols), other);
  ASSERT_TRUE(ib) << ib.status().message();
  EXPECT_EQ(ib->intent.kind, exec::IntentKind::kExit);
  EXPECT_TRUE(ib->done);
  EXPECT_EQ(ib->attempts, 2);
  EXPECT_EQ(other.name(ib->intent.x.symbol), "PEP");
  for (const char* bad : {"", "[]", R"({"id":1})", R"({"id":-1,"ts":0})"})
    EXPECT_FALSE(order_record_from_json(bad, other)) << bad;
  std::string wrong = to_json(r, symbols);
  wrong.replace(wrong.find("\"status\":3"), 10, "\"status\":99");
  auto w = order_record_from_json(wrong, other);
  ASSERT_FALSE(w);
  EXPECT_NE(w.status().message().find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace pairflow::jobs
