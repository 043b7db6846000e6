// Pre-trade risk, in the spirit of SEC Rule 15c3-5: every order passes every rule before it may
// leave, and each rule can be switched off (0 = no limit) and tested on its own. A denial has a
// reason code (`denial_name`), becomes a rejected execution on `executions`, and is counted.
//
// Trading states: active; reduce-only (orders that would increase a position are denied); halted
// (nothing is sent). The daily loss limit and the maximum drawdown move the state to reduce-only or
// halted (`on_breach`); it stays there until an operator re-arms (KillSwitch::rearm does both).
//
// Single-threaded: owned by the execution service's thread.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_set>
#include <vector>

#include "exec/order.h"
#include "model/messages.h"

namespace pairflow::exec {

enum class TradingState : std::uint8_t { kActive, kReduceOnly, kHalted };
const char* to_string(TradingState state);

enum class Denial : std::uint8_t {
  kNone,
  kInvalidOrder,   // quantity not a positive number, unknown side
  kNoMarketData,   // no quote or last price for the symbol
  kStaleQuote,     // the quote is older than max_quote_age (for orders that add risk)
  kOrderQty,       // max_order_qty
  kOrderNotional,  // max_order_notional
  kPositionLimit,  // max_position_qty or max_position_notional after the order
  kGrossExposure,  // max_gross_exposure after the order
  kNetExposure,    // max_net_exposure after the order
  kPairCapital,    // an intent's gross notional over max_pair_capital
  kPriceCollar,    // a limit price further from the mid than price_collar_bps
  kOrderRate,      // more than max_orders_per_second in the last second of event time
  kDuplicate,      // a client order id already used, or the same order again within the window
  kReduceOnly,     // trading state reduce-only and the order adds risk
  kHalted,         // trading state halted
  kKillSwitch,     // the kill switch forbids it (paused: no entries; flatten: only closing)
  kUnhedged,       // max_unhedged_notional reached: no new entries until legs complete
  kCount
};
// "price_collar", "stale_quote", ...: the reason codes on rejected executions.
const char* denial_name(Denial denial);

struct RiskLimits {
  double max_order_qty = 0;          // shares per order
  double max_order_notional = 0;     // currency per order
  double max_position_qty = 0;       // |shares| per symbol after the order
  double max_position_notional = 0;  // |shares x price| per symbol after the order
  double max_gross_exposure = 0;     // sum of |position x price| after the order
  double max_net_exposure = 0;       // |sum of position x price| after the order
  double max_pair_capital = 0;       // gross notional of one intent
  double price_collar_bps = 0;       // limit price vs the mid
  Timestamp max_quote_age = 0;       // ns; orders adding risk need a fresher quote
  double max_orders_per_second = 0;  // in event time
  Timestamp duplicate_window = 0;    // ns: the same symbol, side and qty again is a duplicate
  double daily_loss_limit = 0;       // currency lost since the start of the UTC day
  double max_drawdown = 0;           // currency below the equity peak
  double max_unhedged_notional = 0;  // legs filled without their other leg
  TradingState on_breach = TradingState::kReduceOnly;  // what a loss or drawdown breach does
};

// What the rules look at besides the order: supplied by the execution service.
struct RiskView {
  Timestamp now = 0;
  double bid = kNaN, ask = kNaN, last = kNaN;  // the symbol's market
  Timestamp quote_ts = 0;
  double position = 0;        // the symbol's signed shares now, working orders included
  double gross_exposure = 0;  // across symbols now, at marks
  double net_exposure = 0;
  double unhedged_notional = 0;
};

class RiskEngine {
 public:
  explicit RiskEngine(const RiskLimits& limits) : limits_(limits) {}

  // The first rule `order` breaks, or kNone; `adds_risk` is false for orders that only reduce a
  // position (exits, unwinds, flattening), which reduce-only and stale-quote rules let through.
  // Records the order for the rate and duplicate rules when it passes.
  Denial check(const Order& order, bool adds_risk, const RiskView& view);
  // The same rules without recording or counting; `pending` orders are about to be sent with it
  // (the other leg of an intent) and count against the order rate.
  Denial evaluate(const Order& order, bool adds_risk, const RiskView& view, int pending = 0) const;
  // An intent's gross notional against max_pair_capital (checked once, before its legs).
  Denial check_intent(double gross_notional) const;
  // Equity after each mark: the daily loss limit and the drawdown. Returns true when this moved
  // the trading state.
  bool on_equity(Timestamp ts, double equity);

  TradingState state() const { return state_; }
  void set_state(TradingState state) { state_ = state; }
  // Back to active after an operator's re-arm; the drawdown peak restarts from `equity`.
  void rearm(double equity);
  const RiskLimits& limits() const { return limits_; }
  std::uint64_t denials(Denial d) const { return counts_[static_cast<int>(d)]; }
  std::uint64_t denials_total() const;
  void count(Denial d) { ++counts_[static_cast<int>(d)]; }
  void record(const Order& order, Timestamp now);
  const std::string& breach() const { return breach_; }

 private:
  RiskLimits limits_;
  TradingState state_ = TradingState::kActive;
  std::array<std::uint64_t, static_cast<int>(Denial::kCount)> counts_{};
  std::deque<Timestamp> recent_;  // order times in the last second
  std::unordered_set<std::uint64_t> ids_;
  struct Recent {
    Timestamp ts;
    SymbolId symbol;
    Side side;
    double qty;
  };
  std::deque<Recent> recent_orders_;
  std::int64_t day_ = -1;
  double day_start_equity_ = 0, peak_ = 0;
  bool have_equity_ = false;
  std::string breach_;
};

}  // namespace pairflow::exec
