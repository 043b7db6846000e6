#include "portfolio/portfolio.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pairflow::portfolio {
namespace {

double mid_price(SymbolId s) { return s == 0 ? 100.0 : (s == 1 ? 50.0 : 20.0); }
const FillPriceFn kFill = [](SymbolId s, Side side) {
  return mid_price(s) + (side == Side::kBuy ? 0.01 : -0.01);
};
const FeeFn kNoFee = [](double, double) { return 0.0; };

Signal entry(PairId pair, SignalAction action, double hedge_ratio) {
  return Signal{.ts = 1, .pair = pair, .z = 2.5, .hedge_ratio = hedge_ratio, .action = action};
}

TEST(Portfolio, BetaWeightedSizingAndInversePairs) {
  Portfolio book(1e6, SizingConfig{.capital_per_pair = 30'000, .hedge = HedgeMode::kBeta});
  PairId p = book.add_pair(0, 1);
  PairId q = book.add_pair(2, 1);
  ASSERT_TRUE(book.apply_signal(entry(p, SignalAction::kEnterLong, 2.0), 100, 50, kFill, kNoFee));
  // 30k / (1 + 2) = 10k in y = 100 shares; 2 * 10k = 20k in x = 400 shares short.
  EXPECT_EQ(book.target(0), 100);
  EXPECT_EQ(book.target(1), -400);
  // Inverse pair: long spread buys both legs.
  ASSERT_TRUE(book.apply_signal(entry(q, SignalAction::kEnterLong, -0.5), 20, 50, kFill, kNoFee));
  EXPECT_EQ(book.target(2), 1000);  // 30k / 1.5 = 20k
  EXPECT_EQ(book.target(1), -400 + 200);
  std::vector<Order> orders;
  std::uint64_t id = 1;
  book.make_orders(5, id, orders);
  ASSERT_EQ(orders.size(), 3u);  // netted: one order per symbol
  EXPECT_EQ(orders[1].symbol, 1u);
  EXPECT_EQ(orders[1].side, Side::kSell);
  EXPECT_EQ(orders[1].qty, 200);
  EXPECT_EQ(orders[1].pair, kNoPair);  // two pairs share it
  EXPECT_EQ(orders[0].pair, p);
  EXPECT_EQ(id, 4u);
}

TEST(Portfolio, RefusesEntriesThatCannotBeHedged) {
  Portfolio book(1e6, SizingConfig{.capital_per_pair = 100});
  PairId p = book.add_pair(0, 1);
  EXPECT_FALSE(
      book.apply_signal(entry(p, SignalAction::kEnterLong, 1.0), 100, 50, kFill, kNoFee).is_ok());
  EXPECT_FALSE(
      book.apply_signal(entry(p, SignalAction::kEnterLong, 1.0), kNaN, 50, kFill, kNoFee).is_ok());
  EXPECT_EQ(book.target(0), 0);
  EXPECT_EQ(book.target(1), 0);
  EXPECT_EQ(book.pairs()[p].trades, 0);
}

TEST(Portfolio, DollarNeutralSizing) {
  Portfolio book(1e6, SizingConfig{.capital_per_pair = 20'000, .hedge = HedgeMode::kDollarNeutral});
  PairId p = book.add_pair(0, 1);
  ASSERT_TRUE(book.apply_signal(entry(p, SignalAction::kEnterShort, 3.0), 100, 50, kFill, kNoFee));
  EXPECT_EQ(book.target(0), -100);
  EXPECT_EQ(book.target(1), 200);
}

TEST(Portfolio, FillsRealisedUnrealisedAndIdentity) {
  Portfolio book(10'000, SizingConfig{});
  book.on_fill(
      Execution{.ts = 1, .symbol = 0, .side = Side::kBuy, .qty = 10, .price = 100, .fee = 1});
  book.on_fill(
      Execution{.ts = 2, .symbol = 0, .side = Side::kBuy, .qty = 10, .price = 110, .fee = 1});
  EXPECT_DOUBLE_EQ(book.positions()[0].avg_price, 105);
  book.on_fill(
      Execution{.ts = 3, .symbol = 0, .side = Side::kSell, .qty = 30, .price = 120, .fee = 1});
  const Position& pos = book.positions()[0];
  EXPECT_DOUBLE_EQ(pos.realized_pnl, 20 * 15);
  EXPECT_EQ(pos.qty, -10);
  EXPECT_DOUBLE_EQ(pos.avg_price, 120);  // flipped short at 120
  book.mark(0, 115);
  EXPECT_DOUBLE_EQ(book.positions()[0].unrealized_pnl, 50);
  PnL pnl = book.pnl(4);
  EXPECT_DOUBLE_EQ(pnl.fees, 3);
  EXPECT_DOUBLE_EQ(pnl.net_pnl, 300 + 50 - 3);
  EXPECT_DOUBLE_EQ(pnl.gross_pnl, pnl.net_pnl + pnl.fees);
  // Rejected fills change nothing.
  book.on_fill(Execution{
      .symbol = 0, .side = Side::kBuy, .qty = 5, .price = 1, .status = ExecStatus::kRejected});
  EXPECT_EQ(book.positions()[0].qty, -10);
}

TEST(Portfolio, PairBookAttributesRoundTrip) {
  Portfolio book(1e6, SizingConfig{.capital_per_pair = 30'000});
  PairId p = book.add_pair(0, 1);
  ASSERT_TRUE(book.apply_signal(entry(p, SignalAction::kEnterLong, 2.0), 100, 50, kFill, kNoFee));
  ASSERT_TRUE(book.apply_signal(entry(p, SignalAction::kExit, 2.0), 100, 50, kFill, kNoFee));
  EXPECT_EQ(book.target(0), 0);
  EXPECT_EQ(book.pairs()[p].trades, 1);
  // Round trip at unchanged mids loses the quoted spread on both legs: 2 * 0.01 * (100 + 400).
  book.mark(0, 100);
  book.mark(1, 50);
  EXPECT_NEAR(book.pair_net_pnl(p), -10.0, 1e-9);
  EXPECT_FALSE(book.apply_signal(entry(9, SignalAction::kExit, 1), 1, 1, kFill, kNoFee).is_ok());
}

}  // namespace
}  // namespace pairflow::portfolio

#include "portfolio/performance.h"

namespace pairflow::portfolio {
namespace {

TEST(Performance, SharpeAndDrawdownOfAnEquityCurve) {
  // Returns +1%, -2%, +1.5% of a 100 capital: mean 0.5/3 %, sample sd from the three.
  const std::vector<double> equity = {101, 99, 100.5};
  const Performance p = performance(equity, 100, 252);
  const double r[] = {0.01, -0.02, 0.015};
  const double mean = (r[0] + r[1] + r[2]) / 3;
  double var = 0;
  for (double x : r) var += (x - mean) * (x - mean);
  var /= 2;
  EXPECT_NEAR(p.sharpe, mean / std::sqrt(var) * std::sqrt(252.0), 1e-12);
  EXPECT_DOUBLE_EQ(p.max_drawdown, 2.0);
  EXPECT_DOUBLE_EQ(p.max_drawdown_pct, 2.0 / 101);
  EXPECT_EQ(performance(std::vector<double>{100}, 100, 252).sharpe, 0);  // one period: no Sharpe
}

}  // namespace
}  // namespace pairflow::portfolio
