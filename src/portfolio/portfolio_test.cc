#include "portfolio/portfolio.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pairflow::portfolio {
namespace {

Signal entry(PairId pair, SignalAction action, double hedge_ratio) {
  return Signal{.ts = 1, .pair = pair, .z = 2.5, .hedge_ratio = hedge_ratio, .action = action};
}

TEST(Sizing, BetaWeightedAndInversePairs) {
  const SizingConfig sizing{.capital_per_pair = 30'000, .hedge = HedgeMode::kBeta};
  auto t = size_entry(sizing, entry(0, SignalAction::kEnterLong, 2.0), 100, 50);
  ASSERT_TRUE(t);
  // 30k / (1 + 2) = 10k in y = 100 shares; 2 * 10k = 20k in x = 400 shares short.
  EXPECT_EQ(t->first, 100);
  EXPECT_EQ(t->second, -400);
  // Inverse pair: long spread buys both legs.
  t = size_entry(sizing, entry(1, SignalAction::kEnterLong, -0.5), 20, 50);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->first, 1000);  // 30k / 1.5 = 20k
  EXPECT_EQ(t->second, 200);
  // Short spread: the signs flip.
  t = size_entry(sizing, entry(0, SignalAction::kEnterShort, 2.0), 100, 50);
  EXPECT_EQ(t->first, -100);
  EXPECT_EQ(t->second, 400);
}

TEST(Sizing, RefusesEntriesThatCannotBeHedged) {
  const SizingConfig sizing{.capital_per_pair = 100};
  EXPECT_FALSE(size_entry(sizing, entry(0, SignalAction::kEnterLong, 1.0), 100, 50).is_ok());
  EXPECT_FALSE(size_entry(sizing, entry(0, SignalAction::kEnterLong, 1.0), kNaN, 50).is_ok());
  EXPECT_FALSE(size_entry(SizingConfig{}, entry(0, SignalAction::kEnterLong, kNaN), 1, 1).is_ok());
}

TEST(Sizing, DollarNeutral) {
  const SizingConfig sizing{.capital_per_pair = 20'000, .hedge = HedgeMode::kDollarNeutral};
  auto t = size_entry(sizing, entry(0, SignalAction::kEnterShort, 3.0), 100, 50);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->first, -100);
  EXPECT_EQ(t->second, 200);
}

TEST(Portfolio, FillsRealisedUnrealisedAndIdentity) {
  Portfolio book(10'000);
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

TEST(Portfolio, PairBooksFollowTaggedFills) {
  Portfolio book(1e6);
  book.set_pair(0, 0, 1);
  book.note_entry(0, 2.0);
  auto fill = [&](SymbolId s, Side side, double qty, double price, PairId pair) {
    book.on_fill(Execution{
        .ts = 1, .symbol = s, .side = side, .qty = qty, .price = price, .fee = 0.5, .pair = pair});
  };
  fill(0, Side::kBuy, 100, 100.01, 0);
  fill(1, Side::kSell, 400, 49.99, 0);
  EXPECT_EQ(book.pairs()[0].qty_y, 100);
  EXPECT_EQ(book.pairs()[0].qty_x, -400);
  fill(0, Side::kSell, 100, 99.99, 0);
  fill(1, Side::kBuy, 400, 50.01, 0);
  fill(1, Side::kBuy, 10, 50, kNoPair);  // another book's fill: the total only
  EXPECT_EQ(book.pairs()[0].trades, 1);
  EXPECT_EQ(book.pairs()[0].qty_y, 0);
  // Round trip at unchanged mids loses the quoted spread on both legs: 2 * 0.01 * (100 + 400),
  // and four fees of 0.5.
  book.mark(0, 100);
  book.mark(1, 50);
  EXPECT_NEAR(book.pair_net_pnl(0), -12.0, 1e-9);
  EXPECT_DOUBLE_EQ(book.pairs()[0].fees, 2.0);
  EXPECT_NEAR(book.pnl(2).net_pnl, -12.5, 1e-9);
  // A fee charged when an order ends without a fill (the minimum per order) is booked too.
  book.on_fill(Execution{.symbol = 0, .fee = 1, .status = ExecStatus::kExpired, .pair = 0});
  EXPECT_NEAR(book.pair_net_pnl(0), -13.0, 1e-9);
  EXPECT_EQ(book.pair_net_pnl(7), 0);  // an unknown pair has no book
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
