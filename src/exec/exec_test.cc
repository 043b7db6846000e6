// Execution: pre-trade risk rule by rule, trading states, the kill switch's modes, legging, the
// paper broker's realism and determinism, the journal's restart reconciliation, and the wire
// format's bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "exec/execution.h"
#include "exec/execution_stage.h"
#include "exec/paper_broker.h"
#include "exec/risk.h"
#include "exec/wire.h"
#include "model/json.h"

namespace pairflow::exec {
namespace {

constexpr Timestamp kSec = kNanosPerSecond;
constexpr SymbolId kA = 0, kB = 1;

// ---- Pre-trade risk, one rule at a time -----------------------------------------------------

RiskView market_view(double bid = 99.9, double ask = 100.1) {
  return RiskView{.now = 10 * kSec, .bid = bid, .ask = ask, .last = 100, .quote_ts = 10 * kSec};
}

Order buy(double qty, std::uint64_t id = 1) {
  return Order{
      .client_order_id = id, .ts = 10 * kSec, .symbol = kA, .side = Side::kBuy, .qty = qty};
}

struct RuleCase {
  const char* name;
  RiskLimits limits;
  Order breaking, passing;
  RiskView view = market_view();
  Denial expected;
};

TEST(Risk, EachRuleBlocksWhatItMustAndLetsTheRestThrough) {
  Order limit_far = buy(10);
  limit_far.type = OrderType::kLimit;
  limit_far.limit = 101;  // 100 bps from the mid
  Order limit_near = limit_far;
  limit_near.limit = 100.2;
  RiskView long_position = market_view();
  long_position.position = 900;
  RiskView exposed = market_view();
  exposed.gross_exposure = exposed.net_exposure = 95'000;
  RiskView old_quote = market_view();
  old_quote.quote_ts = 1 * kSec;
  const std::vector<RuleCase> cases = {
      {"max_order_qty",
       {.max_order_qty = 100},
       buy(101),
       buy(100),
       market_view(),
       Denial::kOrderQty},
      {"max_order_notional",
       {.max_order_notional = 10'000},
       buy(101),
       buy(99),
       market_view(),
       Denial::kOrderNotional},
      {"max_position_qty",
       {.max_position_qty = 1000},
       buy(101),
       buy(100),
       long_position,
       Denial::kPositionLimit},
      {"max_position_notional",
       {.max_position_notional = 100'000},
       buy(101),
       buy(99),
       long_position,
       Denial::kPositionLimit},
      {"max_gross_exposure",
       {.max_gross_exposure = 100'000},
       buy(51),
       buy(49),
       exposed,
       Denial::kGrossExposure},
      {"max_net_exposure",
       {.max_net_exposure = 100'000},
       buy(51),
       buy(49),
       exposed,
       Denial::kNetExposure},
      {"price_collar_bps",
       {.price_collar_bps = 50},
       limit_far,
       limit_near,
       market_view(),
       Denial::kPriceCollar},
      {"max_quote_age",
       {.max_quote_age = 5 * kSec},
       buy(1),
       buy(1),
       old_quote,
       Denial::kStaleQuote},
      {"invalid quantity", {}, buy(-5), buy(5), market_view(), Denial::kInvalidOrder},
      {"NaN quantity", {}, buy(kNaN), buy(5), market_view(), Denial::kInvalidOrder},
      {"no market data", {}, buy(5), buy(5), RiskView{.now = 1}, Denial::kNoMarketData},
  };
  for (const RuleCase& c : cases) {
    SCOPED_TRACE(c.name);
    RiskEngine risk(c.limits);
    EXPECT_EQ(risk.check(c.breaking, true, c.view), c.expected);
    EXPECT_EQ(risk.denials(c.expected), 1u);
    if (c.expected == Denial::kStaleQuote) {
      // The stale-quote guard stops new risk only: a reducing order goes through, and a fresh
      // quote lets the same order through.
      EXPECT_EQ(risk.check(buy(1, 2), false, c.view), Denial::kNone);
      EXPECT_EQ(risk.check(c.passing, true, market_view()), Denial::kNone);
    } else if (c.expected == Denial::kNoMarketData) {
      EXPECT_EQ(risk.check(c.passing, true, market_view()), Denial::kNone);
    } else {
      EXPECT_EQ(risk.check(c.passing, true, c.view), Denial::kNone) << denial_name(c.expected);
    }
  }
}

TEST(Risk, PositionAndExposureLimitsLetReducingOrdersThrough) {
  RiskEngine risk({.max_position_qty = 100, .max_gross_exposure = 1000});
  RiskView v = market_view();
  v.position = 500;  // already over both limits
  v.gross_exposure = v.net_exposure = 50'000;
  Order sell = buy(200);
  sell.side = Side::kSell;
  EXPECT_EQ(risk.check(sell, true, v), Denial::kNone);  // it reduces: always allowed
  EXPECT_EQ(risk.check(buy(1, 2), true, v), Denial::kPositionLimit);
}

TEST(Risk, OrderRateAndDuplicateGuards) {
  RiskEngine rate({.max_orders_per_second = 3});
  RiskView v = market_view();
  for (std::uint64_t id = 1; id <= 3; ++id)
    EXPECT_EQ(rate.check(buy(1, id), true, v), Denial::kNone);
  EXPECT_EQ(rate.check(buy(1, 4), true, v), Denial::kOrderRate);
  v.now += kSec;  // a second later the window is empty again
  EXPECT_EQ(rate.check(buy(1, 5), true, v), Denial::kNone);
  // The same client order id twice is always a duplicate.
  EXPECT_EQ(rate.check(buy(1, 5), true, v), Denial::kDuplicate);

  RiskEngine dup({.duplicate_window = 2 * kSec});
  v = market_view();
  EXPECT_EQ(dup.check(buy(7, 1), true, v), Denial::kNone);
  EXPECT_EQ(dup.check(buy(7, 2), true, v), Denial::kDuplicate);  // same symbol, side and qty
  EXPECT_EQ(dup.check(buy(8, 3), true, v), Denial::kNone);
  v.now += 3 * kSec;
  EXPECT_EQ(dup.check(buy(7, 4), true, v), Denial::kNone);  // outside the window
  // evaluate() is a dry run: it neither counts nor records.
  EXPECT_EQ(dup.evaluate(buy(9, 5), true, v), Denial::kNone);
  EXPECT_EQ(dup.evaluate(buy(9, 5), true, v), Denial::kNone);
  EXPECT_EQ(dup.denials_total(), 1u);
}

TEST(Risk, DailyLossAndDrawdownMoveTheTradingState) {
  RiskEngine risk({.daily_loss_limit = 1000, .on_breach = TradingState::kReduceOnly});
  const Timestamp day = kNanosPerDay;
  EXPECT_FALSE(risk.on_equity(day + 1, 100'000));
  EXPECT_FALSE(risk.on_equity(day + 2, 99'500));
  EXPECT_TRUE(risk.on_equity(day + 3, 98'900));  // lost 1100 today
  EXPECT_EQ(risk.state(), TradingState::kReduceOnly);
  EXPECT_NE(risk.breach().find("daily loss"), std::string::npos);
  RiskView v = market_view();
  EXPECT_EQ(risk.check(buy(1, 1), true, v), Denial::kReduceOnly);
  EXPECT_EQ(risk.check(buy(1, 2), false, v), Denial::kNone);  // reducing: allowed
  // It stays there: a new day does not re-arm it, only an operator does.
  EXPECT_FALSE(risk.on_equity(2 * day + 1, 98'900));
  EXPECT_EQ(risk.state(), TradingState::kReduceOnly);
  risk.rearm(98'900);
  EXPECT_EQ(risk.state(), TradingState::kActive);

  RiskEngine dd({.max_drawdown = 500, .on_breach = TradingState::kHalted});
  EXPECT_FALSE(dd.on_equity(1, 100'000));
  EXPECT_FALSE(dd.on_equity(2, 101'000));  // new peak
  EXPECT_TRUE(dd.on_equity(3, 100'400));   // 600 below the peak
  EXPECT_EQ(dd.state(), TradingState::kHalted);
  EXPECT_EQ(dd.check(buy(1, 1), false, v), Denial::kHalted);  // halted: nothing at all
}

// ---- The execution service with the paper broker ---------------------------------------------

struct Recorder : ExecutionEvents {
  std::vector<Order> orders;
  std::vector<Execution> executions;
  std::vector<std::pair<SpreadIntent, bool>> ended;
  std::vector<AuditEntry> audit;
  void on_order(const Order& o) override { orders.push_back(o); }
  void on_execution(const Execution& e) override { executions.push_back(e); }
  void on_intent_end(const SpreadIntent& i, bool complete) override {
    ended.push_back({i, complete});
  }
  void on_kill_switch(const AuditEntry& e) override { audit.push_back(e); }
  int count(ExecStatus status, std::string_view reason = {}) const {
    int n = 0;
    for (const Execution& e : executions)
      n += e.status == status && (reason.empty() || reason == e.reason);
    return n;
  }
};

// A broker that rejects every order for one symbol and sends the rest to the paper broker: the
// "one leg rejected" case, which the paper broker (which fills anything quoted) cannot produce.
class RejectingBroker : public Broker {
 public:
  RejectingBroker(PaperBroker& paper, SymbolId rejected) : paper_(paper), rejected_(rejected) {}
  void send(const Order& o, Timestamp now) override {
    if (o.symbol == rejected_) {
      rejects_.push_back({.kind = ReportKind::kReject,
                          .client_order_id = o.client_order_id,
                          .ts = now,
                          .done = true,
                          .reason = "unknown_symbol"});
      return;
    }
    paper_.send(o, now);
  }
  void cancel(std::uint64_t id, Timestamp now) override { paper_.cancel(id, now); }
  void advance(Timestamp now) override { paper_.advance(now); }
  void poll(std::vector<BrokerReport>& out) override {
    paper_.poll(out);
    out.insert(out.end(), rejects_.begin(), rejects_.end());
    rejects_.clear();
  }
  BrokerView view(const std::vector<Order>& orders) override { return paper_.view(orders); }

 private:
  PaperBroker& paper_;
  SymbolId rejected_;
  std::vector<BrokerReport> rejects_;
};

struct Desk {
  explicit Desk(ExecConfig config = {}, PaperConfig paper_config = {}, Broker* broker = nullptr,
                OrderJournal* journal = nullptr)
      : paper(paper_config),
        service(config, broker ? *broker : paper, market, symbols, events, journal) {
    symbols.intern("AAA");
    symbols.intern("BBB");
  }
  void tick(SymbolId s, Timestamp ts, double bid, double ask, double bid_size = kNaN,
            double ask_size = kNaN, double trade = kNaN, double trade_size = 0) {
    Tick t{.ts = ts,
           .symbol = s,
           .price = std::isfinite(trade) ? trade : 0.5 * (bid + ask),
           .size = trade_size,
           .bid = bid,
           .ask = ask,
           .bid_size = bid_size,
           .ask_size = ask_size};
    market.on_tick(t);
    paper.on_tick(t);
    service.on_time(ts);
  }
  void quotes(Timestamp ts, double mid_a = 100, double mid_b = 50) {
    tick(kA, ts, mid_a - 0.05, mid_a + 0.05);
    tick(kB, ts, mid_b - 0.05, mid_b + 0.05);
  }
  static SpreadIntent intent(PairId pair, Timestamp ts, double qa, double qb,
                             IntentKind kind = IntentKind::kEntry) {
    return SpreadIntent{.id = intent_id(pair, ts, kind),
                        .pair = pair,
                        .ts = ts,
                        .kind = kind,
                        .y = {kA, qa},
                        .x = {kB, qb}};
  }
  SymbolTable symbols;
  MarketBook market;
  PaperBroker paper;
  Recorder events;
  ExecutionService service;
};

TEST(Execution, AnIntentSendsBothLegsAndCompletes) {
  Desk d;
  d.quotes(1 * kSec);
  ASSERT_TRUE(d.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec));
  ASSERT_EQ(d.events.orders.size(), 2u);
  EXPECT_NE(d.events.orders[0].client_order_id, d.events.orders[1].client_order_id);
  EXPECT_EQ(d.events.count(ExecStatus::kAcknowledged), 2);
  EXPECT_EQ(d.events.count(ExecStatus::kFilled), 2);
  EXPECT_EQ(d.service.position(kA), 100);
  EXPECT_EQ(d.service.position(kB), -200);
  EXPECT_EQ(d.service.pair_position(0), (std::pair{100.0, -200.0}));
  ASSERT_EQ(d.events.ended.size(), 1u);
  EXPECT_TRUE(d.events.ended[0].second);
  EXPECT_EQ(d.service.unhedged_notional(), 0);
  // The same decision delivered again is not traded twice.
  EXPECT_FALSE(d.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec));
  EXPECT_EQ(d.events.orders.size(), 2u);
  // Client order ids are derived from the decision: a second desk gives the same ones.
  Desk again;
  again.quotes(1 * kSec);
  again.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec);
  EXPECT_EQ(again.events.orders[0].client_order_id, d.events.orders[0].client_order_id);
}

TEST(Execution, ADeniedLegSendsNeitherLeg) {
  Desk d({.risk = {.max_order_qty = 150}});
  d.quotes(1 * kSec);
  EXPECT_FALSE(d.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec));
  EXPECT_TRUE(d.events.orders.empty());  // the y leg alone would have passed
  EXPECT_EQ(d.events.count(ExecStatus::kRejected, "max_order_qty"), 2);
  EXPECT_EQ(d.service.risk().denials(Denial::kOrderQty), 1u);
  EXPECT_EQ(d.paper.orders_received(), 0u);
  // Every denial is an execution with a reason code, on the pair.
  EXPECT_EQ(d.events.executions[0].pair, 0u);
}

TEST(Execution, PairCapitalAndUnhedgedLimitsApplyToIntents) {
  Desk d({.risk = {.max_pair_capital = 15'000}});
  d.quotes(1 * kSec);
  EXPECT_FALSE(d.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec));  // 20k gross
  EXPECT_EQ(d.events.count(ExecStatus::kRejected, "max_pair_capital"), 2);
  EXPECT_TRUE(d.service.submit(Desk::intent(1, 3 * kSec, 50, -100), 3 * kSec));  // 10k
}

TEST(Execution, AnUnhedgedLegBlocksNewEntriesUntilItCompletes) {
  Desk d({.risk = {.max_unhedged_notional = 1'000},
          .legging = {.policy = LeggingPolicy::kChase, .leg_timeout = 5 * kSec, .max_attempts = 2}},
         {.depth_levels = 1});
  d.tick(kA, 1 * kSec, 99.95, 100.05, 1000, 1000);
  d.tick(kB, 1 * kSec, 49.95, 50.05, 120, 120);  // 120 of the 200 to sell are shown
  d.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec);
  // y filled whole, x 120 of 200: 40 % of the pair's 10k gross is unhedged.
  EXPECT_NEAR(d.service.unhedged_notional(), 4'000, 1e-6);
  EXPECT_FALSE(d.service.submit(Desk::intent(1, 2 * kSec, 10, -20), 2 * kSec));
  EXPECT_EQ(d.events.count(ExecStatus::kRejected, "max_unhedged_notional"), 2);
  EXPECT_EQ(d.service.risk().denials(Denial::kUnhedged), 1u);
  // Once the chase completes the leg, entries pass again.
  Desk e({.risk = {.max_unhedged_notional = 1'000},
          .legging = {.policy = LeggingPolicy::kChase, .leg_timeout = 5 * kSec, .max_attempts = 2}},
         {.depth_levels = 1});
  e.tick(kA, 1 * kSec, 99.95, 100.05, 1000, 1000);
  e.tick(kB, 1 * kSec, 49.95, 50.05, 120, 120);
  e.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec);
  e.tick(kB, 3 * kSec, 49.95, 50.05, 500, 500);
  EXPECT_EQ(e.service.unhedged_notional(), 0);
  EXPECT_TRUE(e.service.submit(Desk::intent(1, 4 * kSec, 10, -20), 4 * kSec));
}

TEST(Legging, ARejectedLegIsUnwound) {
  SymbolTable unused;
  PaperBroker paper;
  RejectingBroker broker(paper, kB);
  Desk d({}, {}, &broker);
  auto tick = [&](SymbolId s, Timestamp ts, double mid) {
    Tick t{.ts = ts, .symbol = s, .price = mid, .size = 1, .bid = mid - 0.05, .ask = mid + 0.05};
    d.market.on_tick(t);
    paper.on_tick(t);
  };
  tick(kA, 1 * kSec, 100);
  tick(kB, 1 * kSec, 50);
  d.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec);
  d.service.on_time(3 * kSec);
  // y filled, x rejected: y was sold back, and the pair is flat.
  EXPECT_EQ(d.service.counts().unwinds, 1u);
  EXPECT_EQ(d.service.position(kA), 0);
  EXPECT_EQ(d.service.position(kB), 0);
  EXPECT_EQ(d.service.unhedged_notional(), 0);
  ASSERT_EQ(d.events.ended.size(), 1u);
  EXPECT_FALSE(d.events.ended[0].second);
  EXPECT_EQ(d.events.count(ExecStatus::kRejected, "unknown_symbol"), 1);
  EXPECT_EQ(d.service.counts().intents_failed, 1u);
}

TEST(Legging, ALegShortOfDisplayedSizeIsUnwoundOrChased) {
  for (LeggingPolicy policy : {LeggingPolicy::kUnwind, LeggingPolicy::kChase}) {
    SCOPED_TRACE(to_string(policy));
    Desk d({.legging = {.policy = policy, .leg_timeout = 5 * kSec, .max_attempts = 2}},
           {.depth_levels = 1});
    d.tick(kA, 1 * kSec, 99.95, 100.05, 1000, 1000);
    d.tick(kB, 1 * kSec, 49.95, 50.05, 120, 120);  // only 120 of the 200 to sell are shown
    d.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec);
    if (policy == LeggingPolicy::kUnwind) {
      // y filled, x 120 of 200 then expired: both unwound, flat again.
      EXPECT_EQ(d.service.position(kA), 0);
      EXPECT_EQ(d.service.position(kB), 0);
      EXPECT_FALSE(d.events.ended.back().second);
    } else {
      // The missing 80 are chased with a marketable limit; the next quote shows enough.
      EXPECT_EQ(d.service.counts().chases, 1u);
      EXPECT_EQ(d.service.position(kB), -120);
      d.tick(kB, 3 * kSec, 49.95, 50.05, 500, 500);
      EXPECT_EQ(d.service.position(kA), 100);
      EXPECT_EQ(d.service.position(kB), -200);
      EXPECT_TRUE(d.events.ended.back().second);
    }
  }
}

TEST(Legging, ALegUnfilledPastItsTimeLimitIsCancelledThenThePolicyApplies) {
  Desk d({.legging = {.policy = LeggingPolicy::kChase,
                      .leg_timeout = 5 * kSec,
                      .chase_slippage_bps = 1,
                      .max_attempts = 1}},
         {.depth_levels = 1});
  d.tick(kA, 1 * kSec, 99.95, 100.05, 1000, 1000);
  d.tick(kB, 1 * kSec, 49.95, 50.05, 120, 120);
  d.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec);
  ASSERT_EQ(d.service.counts().chases, 1u);
  // The market runs away from the chase's limit (49.95 - 1 bp): it rests, unfilled.
  d.tick(kB, 3 * kSec, 49.0, 49.1, 500, 500);
  EXPECT_EQ(d.service.position(kB), -120);
  d.tick(kB, 6 * kSec, 49.0, 49.1, 500, 500);
  EXPECT_EQ(d.service.position(kB), -120);     // 4 s: still inside the time limit
  d.tick(kB, 8 * kSec, 49.0, 49.1, 500, 500);  // past it: cancelled, out of chases, unwound
  d.tick(kB, 9 * kSec, 49.0, 49.1, 500, 500);
  EXPECT_EQ(d.events.count(ExecStatus::kCancelled), 1);
  EXPECT_EQ(d.service.position(kA), 0);
  EXPECT_EQ(d.service.position(kB), 0);
  EXPECT_FALSE(d.events.ended.back().second);
}

TEST(KillSwitch, PauseBlocksEntriesButNotExitsAndOnlyRearmLiftsIt) {
  Desk d;
  d.quotes(1 * kSec);
  d.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec);
  EXPECT_TRUE(d.service.kill(KillMode::kPause, 3 * kSec, "ctl", "operator"));
  EXPECT_FALSE(d.service.submit(Desk::intent(1, 4 * kSec, 10, -20), 4 * kSec));
  EXPECT_EQ(d.events.count(ExecStatus::kRejected, "kill_switch"), 2);
  // The exit of the open pair goes through.
  EXPECT_TRUE(d.service.submit(Desk::intent(0, 5 * kSec, -100, 200, IntentKind::kExit), 5 * kSec));
  EXPECT_EQ(d.service.position(kA), 0);
  // Latched: a weaker trigger is recorded and ignored; time does not lift it.
  EXPECT_FALSE(d.service.kill(KillMode::kPause, 6 * kSec, "signal:SIGUSR1", ""));
  d.quotes(100 * kSec);
  EXPECT_EQ(d.service.kill_switch().mode(), KillMode::kPause);
  d.service.rearm(101 * kSec, "ctl", 1e6);
  EXPECT_TRUE(d.service.submit(Desk::intent(1, 102 * kSec, 10, -20), 102 * kSec));
  const auto& audit = d.service.kill_switch().audit();
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].action, "trigger");
  EXPECT_EQ(audit[0].by, "ctl");
  EXPECT_EQ(audit[1].action, "ignored");
  EXPECT_EQ(audit[1].by, "signal:SIGUSR1");
  EXPECT_EQ(audit[2].action, "rearm");
  EXPECT_EQ(d.events.audit.size(), 3u);  // each went to the audit sink as it happened
}

TEST(KillSwitch, FlattenClosesEveryPositionWithHedgedExits) {
  Desk d({}, {.latency = 100'000});  // 100 us to the market: orders are in flight when it fires
  d.quotes(1 * kSec);
  d.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec);
  d.quotes(3 * kSec);
  d.service.submit(Desk::intent(1, 4 * kSec, -30, 60), 4 * kSec);  // in flight
  d.service.kill(KillMode::kFlatten, 4 * kSec, "control-topic", "desk closing");
  for (Timestamp t = 5; t < 10; ++t) d.quotes(t * kSec);
  EXPECT_EQ(d.service.position(kA), 0);
  EXPECT_EQ(d.service.position(kB), 0);
  EXPECT_EQ(d.service.pair_position(0), (std::pair{0.0, 0.0}));
  EXPECT_EQ(d.service.pair_position(1), (std::pair{0.0, 0.0}));
  EXPECT_EQ(d.service.unhedged_notional(), 0);
  EXPECT_TRUE(d.service.idle());
  // No new entry while it holds.
  EXPECT_FALSE(d.service.submit(Desk::intent(2, 20 * kSec, 10, -20), 20 * kSec));
}

TEST(KillSwitch, HaltCancelsWorkingOrdersAndSendsNothing) {
  Desk d({.legging = {.policy = LeggingPolicy::kChase, .leg_timeout = 60 * kSec}},
         {.depth_levels = 1});
  d.tick(kA, 1 * kSec, 99.95, 100.05, 1000, 1000);
  d.tick(kB, 1 * kSec, 49.95, 50.05, 120, 120);
  d.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec);
  d.tick(kB, 3 * kSec, 40.0, 40.1, 500, 500);  // the chase rests below the market... (a sell)
  d.service.kill(KillMode::kHalt, 4 * kSec, "risk", "test");
  d.quotes(5 * kSec);
  EXPECT_TRUE(d.service.idle());
  const auto sent = d.events.orders.size();
  EXPECT_FALSE(d.service.submit(Desk::intent(0, 6 * kSec, 0, 0, IntentKind::kExit), 6 * kSec) &&
               d.events.orders.size() > sent);
  EXPECT_EQ(d.events.orders.size(), sent);
}

TEST(KillSwitch, ALossLimitPausesAndMovesToReduceOnly) {
  Desk d({.risk = {.daily_loss_limit = 100}});
  d.quotes(1 * kSec);
  d.service.on_equity(1 * kSec, 1e6);
  d.service.on_equity(2 * kSec, 1e6 - 150);
  EXPECT_EQ(d.service.trading_state(), TradingState::kReduceOnly);
  EXPECT_EQ(d.service.kill_switch().mode(), KillMode::kPause);
  EXPECT_EQ(d.service.kill_switch().audit().back().by, "risk");
  EXPECT_FALSE(d.service.submit(Desk::intent(0, 3 * kSec, 10, -20), 3 * kSec));
}

// ---- The paper broker ------------------------------------------------------------------------

TEST(PaperBroker, FillsAtTheQuoteAtArrivalAfterLatency) {
  PaperBroker b({.latency = 2 * kSec});
  b.on_tick(Tick{.ts = 1 * kSec, .symbol = kA, .price = 100, .size = 1, .bid = 99.9, .ask = 100.1});
  b.send(Order{.client_order_id = 7, .ts = 1 * kSec, .symbol = kA, .side = Side::kBuy, .qty = 10},
         1 * kSec);
  std::vector<BrokerReport> r;
  b.on_tick(
      Tick{.ts = 2 * kSec, .symbol = kA, .price = 101, .size = 1, .bid = 100.9, .ask = 101.1});
  b.poll(r);
  EXPECT_TRUE(r.empty());  // still travelling
  b.on_tick(
      Tick{.ts = 4 * kSec, .symbol = kA, .price = 102, .size = 1, .bid = 101.9, .ask = 102.1});
  b.poll(r);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].kind, ReportKind::kAck);
  EXPECT_EQ(r[1].kind, ReportKind::kFill);
  EXPECT_EQ(r[1].ts, 3 * kSec);
  EXPECT_DOUBLE_EQ(r[1].price, 101.1);  // the ask standing at arrival, not at decision
}

TEST(PaperBroker, DisplayedSizeLimitsFillsAndTheRestWalksTheBook) {
  PaperBroker b({.depth_levels = 3, .level_step_bps = 10, .fees = {.commission_bps = 0}});
  b.on_tick(Tick{.ts = 1,
                 .symbol = kA,
                 .price = 100,
                 .size = 1,
                 .bid = 99.9,
                 .ask = 100,
                 .bid_size = 50,
                 .ask_size = 100});
  b.send(Order{.client_order_id = 1, .symbol = kA, .side = Side::kBuy, .qty = 250}, 1);
  b.advance(1);
  std::vector<BrokerReport> r;
  b.poll(r);
  ASSERT_EQ(r.size(), 4u);  // ack, 100 @ 100, 100 @ 100.1, 50 @ 100.2
  EXPECT_DOUBLE_EQ(r[1].qty, 100);
  EXPECT_DOUBLE_EQ(r[1].price, 100);
  EXPECT_NEAR(r[2].price, 100.1, 1e-9);
  EXPECT_DOUBLE_EQ(r[3].qty, 50);
  EXPECT_NEAR(r[3].price, 100.2, 1e-9);
  EXPECT_TRUE(r[3].done);
  // Deeper than the levels allow: the rest expires (immediate-or-cancel).
  b.send(Order{.client_order_id = 2, .symbol = kA, .side = Side::kSell, .qty = 500}, 1);
  b.advance(1);
  r.clear();
  b.poll(r);
  ASSERT_EQ(r.back().kind, ReportKind::kExpired);
  double filled = 0;
  for (const auto& x : r) filled += x.kind == ReportKind::kFill ? x.qty : 0;
  EXPECT_DOUBLE_EQ(filled, 150);
}

TEST(PaperBroker, RestingLimitsFillOnlyWhenTheMarketTradesThrough) {
  PaperBroker b;
  b.on_tick(Tick{.ts = 1, .symbol = kA, .price = 100, .size = 1, .bid = 99.9, .ask = 100.1});
  b.send(Order{.client_order_id = 1,
               .symbol = kA,
               .side = Side::kBuy,
               .qty = 30,
               .type = OrderType::kLimit,
               .limit = 99.5},
         1);
  b.advance(1);
  std::vector<BrokerReport> r;
  b.poll(r);
  ASSERT_EQ(r.size(), 1u);  // acknowledged, resting
  // A trade at the limit fills nothing (last in the queue); one through it fills up to its size.
  b.on_tick(Tick{.ts = 2, .symbol = kA, .price = 99.5, .size = 100});
  b.on_tick(Tick{.ts = 3, .symbol = kA, .price = 99.4, .size = 10});
  r.clear();
  b.poll(r);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_DOUBLE_EQ(r[0].qty, 10);
  EXPECT_DOUBLE_EQ(r[0].price, 99.5);  // at the limit
  EXPECT_FALSE(r[0].done);
  b.cancel(1, 4);
  b.advance(4);
  r.clear();
  b.poll(r);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].kind, ReportKind::kCancelled);
}

TEST(PaperBroker, FeesPerShareBpsAndMinimumPerOrder) {
  PaperBroker b({.fees = {.commission_per_share = 0.005, .commission_bps = 1, .min_per_order = 1}});
  b.on_tick(Tick{.ts = 1, .symbol = kA, .price = 100, .size = 1, .bid = 99.9, .ask = 100.1});
  b.send(Order{.client_order_id = 1, .symbol = kA, .side = Side::kBuy, .qty = 10}, 1);
  b.send(Order{.client_order_id = 2, .symbol = kA, .side = Side::kSell, .qty = 10'000}, 1);
  b.advance(1);
  std::vector<BrokerReport> r;
  b.poll(r);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_DOUBLE_EQ(r[1].fee, 1.0);  // 0.05 + 0.1001 is under the minimum
  EXPECT_DOUBLE_EQ(r[3].fee, 10'000 * 0.005 + 10'000 * 99.9 * 1e-4);
  // The same client order id again is refused, never executed twice.
  b.send(Order{.client_order_id = 1, .symbol = kA, .side = Side::kBuy, .qty = 10}, 2);
  b.advance(2);
  r.clear();
  b.poll(r);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].reason, "duplicate_client_order_id");
  EXPECT_EQ(b.view({}).positions.at(kA), -9990);
}

// The same input, config and seed give byte-identical executions; another seed changes the
// jittered arrival times.
std::string run_with_seed(std::uint64_t seed) {
  Desk d({}, {.latency = 1'000'000, .latency_jitter = 5'000'000, .seed = seed, .depth_levels = 2});
  std::string out;
  for (int i = 0; i < 200; ++i) {
    const Timestamp ts = (i + 1) * 1'000'000;  // a quote every ms, moving
    const double a = 100 + 0.01 * (i % 17), b = 50 + 0.01 * (i % 11);
    d.tick(kA, ts, a - 0.05, a + 0.05, 40 + i % 7, 40 + i % 5);
    d.tick(kB, ts, b - 0.05, b + 0.05, 60, 60);
    if (i % 10 == 0)
      d.service.submit(Desk::intent(static_cast<PairId>(i), ts, i % 20 == 0 ? 60 : -60, 90), ts);
  }
  for (const Execution& e : d.events.executions) out += to_json(e, d.symbols) + "\n";
  return out;
}

TEST(PaperBroker, SameSeedSameExecutionsByteForByte) {
  const std::string one = run_with_seed(7), two = run_with_seed(7), other = run_with_seed(8);
  EXPECT_GT(one.size(), 1000u);
  EXPECT_EQ(one, two);
  EXPECT_NE(one, other);
}

// ---- The journal and restarts ----------------------------------------------------------------

struct TempFile {
  explicit TempFile(const char* name)
      : path((std::filesystem::temp_directory_path() /
              (std::string(name) + std::to_string(::getpid())))
                 .string()) {
    remove();
  }
  ~TempFile() { remove(); }
  void remove() const {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  std::string path;
};

SymbolTable two_symbols() {
  SymbolTable symbols;
  symbols.intern("AAA");
  symbols.intern("BBB");
  return symbols;
}

TEST(Journal, ARestartResendsWhatNeverLeftAndNeverDuplicates) {
  TempFile file("pairflow-journal-");
  PaperBroker broker({.latency = 2 * kSec});  // outlives the "process": a broker elsewhere
  std::uint64_t first_id = 0;
  {
    SymbolTable symbols = two_symbols();
    SqliteJournal journal(file.path, symbols);
    Desk d({}, {}, &broker, &journal);
    auto tick = [&](SymbolId s, Timestamp ts, double mid) {
      Tick t{.ts = ts, .symbol = s, .price = mid, .size = 1, .bid = mid - 0.05, .ask = mid + 0.05};
      d.market.on_tick(t);
      broker.on_tick(t);
    };
    tick(kA, 1 * kSec, 100);
    tick(kB, 1 * kSec, 50);
    d.service.submit(Desk::intent(0, 2 * kSec, 100, -200), 2 * kSec);
    first_id = d.events.orders[0].client_order_id;
    // Dies here: both legs journaled and sent, still travelling, no report seen.
  }
  for (SymbolId s : {kA, kB})
    broker.on_tick(
        Tick{.ts = 5 * kSec, .symbol = s, .price = 70, .size = 1, .bid = 69.9, .ask = 70.1});
  {
    SymbolTable symbols = two_symbols();
    SqliteJournal journal(file.path, symbols);
    Desk d({}, {}, &broker, &journal);
    const auto problems = d.service.recover(6 * kSec);
    EXPECT_TRUE(problems.empty()) << problems.front();
    // The broker had both orders: their fills (made while the process was down) are booked,
    // nothing is sent again.
    EXPECT_TRUE(d.events.orders.empty());
    EXPECT_EQ(broker.orders_received(), 2u);
    EXPECT_EQ(d.service.position(kA), 100);
    EXPECT_EQ(d.service.position(kB), -200);
    ASSERT_EQ(d.events.count(ExecStatus::kFilled), 2);
    EXPECT_EQ(d.events.executions[0].client_order_id == first_id ||
                  d.events.executions[1].client_order_id == first_id,
              true);
  }
}

TEST(Journal, AnOrderWrittenButNeverReceivedIsSentOnceAtRestart) {
  TempFile file("pairflow-journal2-");
  std::uint64_t id = 0;
  SymbolTable symbols = two_symbols();
  {
    SqliteJournal journal(file.path, symbols);
    OrderRecord r;
    r.order = Order{.client_order_id = 4242, .ts = 1, .symbol = kA, .side = Side::kBuy, .qty = 5};
    const SpreadIntent intent = Desk::intent(0, 1, 5, 0);
    r.intent = intent.id;
    r.status = OrderStatus::kNew;  // written, then the process died before the send
    journal.record(IntentRecord{.intent = intent});
    journal.record(r);
    id = r.order.client_order_id;
  }
  PaperBroker broker;
  broker.on_tick(Tick{.ts = 1, .symbol = kA, .price = 100, .size = 1, .bid = 99.9, .ask = 100.1});
  SqliteJournal journal(file.path, symbols);
  Desk d({}, {}, &broker, &journal);
  EXPECT_TRUE(d.service.recover(2).empty());
  ASSERT_EQ(d.events.orders.size(), 1u);
  EXPECT_EQ(d.events.orders[0].client_order_id, id);
  d.service.on_time(3);
  EXPECT_EQ(broker.orders_received(), 1u);
  // A second restart finds it at the broker: nothing is sent.
  SqliteJournal journal2(file.path, symbols);
  Desk d2({}, {}, &broker, &journal2);
  d2.service.recover(4);
  EXPECT_TRUE(d2.events.orders.empty());
  EXPECT_EQ(broker.orders_received(), 1u);
}

TEST(Journal, APositionMismatchBlocksTradingUntilAcknowledged) {
  TempFile file("pairflow-journal3-");
  SymbolTable symbols = two_symbols();
  {
    SqliteJournal journal(file.path, symbols);
    PaperBroker broker;
    Desk d({}, {}, &broker, &journal);
    d.quotes(1);
    broker.on_tick(
        Tick{.ts = 1, .symbol = kA, .price = 100, .size = 1, .bid = 99.95, .ask = 100.05});
    broker.on_tick(Tick{.ts = 1, .symbol = kB, .price = 50, .size = 1, .bid = 49.95, .ask = 50.05});
    d.service.submit(Desk::intent(0, 2, 100, -200), 2);
    EXPECT_EQ(d.service.position(kA), 100);
  }
  PaperBroker empty;  // a broker that knows nothing of those fills
  SqliteJournal journal(file.path, symbols);
  Desk d({}, {}, &empty, &journal);
  d.quotes(3);
  const auto problems = d.service.recover(3);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("the broker does not know it"), std::string::npos) << problems[0];
  EXPECT_TRUE(d.service.blocked());
  EXPECT_FALSE(d.service.submit(Desk::intent(1, 4, 10, -20), 4));
  EXPECT_EQ(d.events.count(ExecStatus::kRejected, "reconciliation_pending"), 2);
  d.service.acknowledge(5, "ctl");
  EXPECT_FALSE(d.service.blocked());
  EXPECT_TRUE(d.service.submit(Desk::intent(1, 6, 10, -20), 6));
}

// ---- The stage: targets, supersession, books -------------------------------------------------

struct StageLog : StageEvents {
  std::vector<Execution> executions;
  std::vector<PnL> pnl;
  std::vector<PairPnl> pairs;
  void on_execution(const Execution& e) override { executions.push_back(e); }
  void on_pnl(const PnL& p) override { pnl.push_back(p); }
  void on_pair_pnl(const PairPnl& p) override { pairs.push_back(p); }
};

TEST(Stage, IntentsAreTargetsAndBooksFollowFills) {
  SymbolTable symbols;
  StageLog log;
  ExecutionStage stage({.initial_capital = 1e6}, symbols, log);
  symbols.intern("AAA");
  symbols.intern("BBB");
  for (SymbolId s : {kA, kB}) {
    const double mid = s == kA ? 100 : 50;
    stage.on_tick(
        Tick{.ts = 1, .symbol = s, .price = mid, .size = 1, .bid = mid - 0.05, .ask = mid + 0.05});
  }
  SpreadIntent entry = Desk::intent(0, 2, 100, -200);
  EXPECT_TRUE(stage.on_intent(entry));
  EXPECT_TRUE(stage.on_intent(entry));  // delivered twice: traded once
  EXPECT_EQ(stage.duplicate_intents(), 1u);
  EXPECT_EQ(stage.service().position(kA), 100);
  stage.on_slice(3);
  ASSERT_EQ(log.pnl.size(), 1u);
  ASSERT_EQ(log.pairs.size(), 1u);
  EXPECT_EQ(log.pairs[0].qty_x, -200);
  // The exit targets flat, whatever the pair holds.
  EXPECT_TRUE(stage.on_intent(Desk::intent(0, 4, 0, 0, IntentKind::kExit)));
  EXPECT_EQ(stage.service().pair_position(0), (std::pair{0.0, 0.0}));
  stage.on_slice(5);
  // Round trip at unchanged quotes: the spread on both legs and the default fees.
  EXPECT_LT(log.pnl.back().net_pnl, 0);
  EXPECT_NEAR(log.pnl.back().net_pnl, stage.books().pair_net_pnl(0), 1e-9);
  // No latency, no displayed sizes: the model's fills are the ideal ones.
  EXPECT_EQ(stage.service().realism_cost(), 0);
  EXPECT_EQ(stage.ideal_net_pnl(log.pnl.back().net_pnl), log.pnl.back().net_pnl);
  // Commands.
  ControlCommand pause{.kind = CommandKind::kKill, .mode = KillMode::kPause, .by = "test"};
  EXPECT_NE(stage.on_command(pause).find("\"kill_switch\":\"pause\""), std::string::npos);
  EXPECT_NE(stage.on_command({.kind = CommandKind::kResume}).find("\"ok\":true"),
            std::string::npos);
  stage.on_command({.kind = CommandKind::kKill, .mode = KillMode::kHalt});
  EXPECT_NE(stage.on_command({.kind = CommandKind::kResume}).find("use rearm"), std::string::npos);
}

// ---- Wire format: bad input is an error naming the field, never a crash ----------------------

TEST(Wire, IntentsRoundTripAndBadOnesNameTheirField) {
  SymbolTable symbols;
  symbols.intern("AAA");
  symbols.intern("BBB");
  WireParser parser;
  SpreadIntent i = Desk::intent(3, 1'700'000'000'000'000'000, 100, -200);
  i.hedge_ratio = 1.5;
  auto back = parser.parse_orders(intent_to_json(i, symbols), symbols);
  ASSERT_TRUE(back) << back.status().message();
  EXPECT_EQ(back->intent.id, i.id);
  EXPECT_EQ(back->intent.y.qty, 100);
  EXPECT_EQ(back->intent.x.symbol, kB);
  auto slice = parser.parse_orders(slice_to_json(42, false), symbols);
  ASSERT_TRUE(slice);
  EXPECT_EQ(slice->type, OrdersMessage::Type::kSlice);
  EXPECT_EQ(slice->ts, 42);
  EXPECT_FALSE(slice->trading);
  auto plain = parser.parse_orders(R"({"type":"slice","ts":7})", symbols);
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->trading);  // optional, default true
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{", "not JSON"},
      {"[]", "not a JSON object"},
      {R"({"type":"intent","ts":1})", "pair"},
      {R"({"type":"order","ts":1})", "type"},
      {R"({"type":"slice","ts":1,"trading":1})", "trading"},
      {R"({"type":"intent","ts":1,"pair":-1})", "pair"},
      {R"({"type":"intent","ts":1,"pair":0,"kind":"buy"})", "kind"},
      {R"({"type":"intent","ts":1,"pair":0,"kind":"entry","y":"AAA","x":"AAA"})", "x"},
      {R"({"type":"intent","ts":1,"pair":0,"kind":"entry","y":"AAA","x":"BBB","y_qty":"1","x_qty":1})",
       "y_qty"},
      {R"({"type":"intent","ts":1,"pair":0,"kind":"entry","y":"AAA","x":"BBB","y_qty":1.5,"x_qty":1})",
       "y_qty"},
      {R"({"type":"intent","ts":1,"pair":0,"kind":"exit","y":"AAA","x":"BBB","y_qty":5,"x_qty":0})",
       "y_qty"},
      {R"({"type":"intent","ts":"yesterday","pair":0})", "yesterday"},
  };
  for (const auto& [json, expected] : bad) {
    auto r = parser.parse_orders(json, symbols);
    ASSERT_FALSE(r) << json;
    EXPECT_NE(r.status().message().find(expected), std::string::npos)
        << json << " -> " << r.status().message();
  }
}

TEST(Wire, ControlCommands) {
  WireParser parser;
  auto c = parser.parse_control(R"({"command":"kill","mode":"flatten","by":"dashboard"})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, CommandKind::kKill);
  EXPECT_EQ(c->mode, KillMode::kFlatten);
  EXPECT_EQ(c->by, "dashboard");
  auto again = parser.parse_control(to_json(*c));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->mode, KillMode::kFlatten);
  EXPECT_EQ(parser.parse_control(R"({"command":"pause"})")->mode, KillMode::kPause);
  EXPECT_FALSE(parser.parse_control(R"({"command":"kill"})"));
  EXPECT_FALSE(parser.parse_control(R"({"command":"kill","mode":"none"})"));
  EXPECT_FALSE(parser.parse_control(R"({"command":"explode"})"));
  EXPECT_FALSE(parser.parse_control(R"({"command":"rearm","by":7})"));
}

}  // namespace
}  // namespace pairflow::exec
