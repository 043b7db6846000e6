#include <gtest/gtest.h>

#include "exec/paper_broker.h"

namespace pairflow::exec {
namespace {

TEST(PaperBroker, BuysAtAskSellsAtBidWithFees) {
  PaperBroker broker(FeeModel{.commission_per_share = 0.005, .commission_bps = 1.0});
  broker.on_tick(Tick{.ts = 1, .symbol = 0, .price = 100.0, .size = 1, .bid = 99.9, .ask = 100.1});
  Execution buy = broker.execute(
      Order{.client_order_id = 1, .ts = 2, .symbol = 0, .side = Side::kBuy, .qty = 10});
  EXPECT_EQ(buy.status, ExecStatus::kFilled);
  EXPECT_DOUBLE_EQ(buy.price, 100.1);
  EXPECT_DOUBLE_EQ(buy.fee, 10 * 0.005 + 10 * 100.1 * 1e-4);
  Execution sell = broker.execute(
      Order{.client_order_id = 2, .ts = 2, .symbol = 0, .side = Side::kSell, .qty = 10});
  EXPECT_DOUBLE_EQ(sell.price, 99.9);
  EXPECT_DOUBLE_EQ(broker.mid(0), 100.0);
}

TEST(PaperBroker, TradeOutsideTheQuoteMakesItStale) {
  PaperBroker broker(FeeModel{});
  broker.on_tick(Tick{.ts = 1, .symbol = 0, .price = 100.0, .size = 1, .bid = 99.9, .ask = 100.1});
  broker.on_tick(Tick{.ts = 2, .symbol = 0, .price = 100.05, .size = 1});  // inside: quote kept
  EXPECT_DOUBLE_EQ(broker.fill_price(0, Side::kBuy), 100.1);
  broker.on_tick(Tick{.ts = 3, .symbol = 0, .price = 103.0, .size = 1});  // outside: stale
  EXPECT_DOUBLE_EQ(broker.fill_price(0, Side::kBuy), 103.0);
  EXPECT_DOUBLE_EQ(broker.fill_price(0, Side::kSell), 103.0);
}

TEST(PaperBroker, NoQuoteUsesLastTradeAndUnknownSymbolIsRejected) {
  PaperBroker broker(FeeModel{});
  broker.on_tick(Tick{.ts = 1, .symbol = 1, .price = 50.0, .size = 1});
  EXPECT_DOUBLE_EQ(broker.execute(Order{.symbol = 1, .side = Side::kBuy, .qty = 1}).price, 50.0);
  Execution rejected = broker.execute(Order{.symbol = 0, .side = Side::kBuy, .qty = 1});
  EXPECT_EQ(rejected.status, ExecStatus::kRejected);
  EXPECT_EQ(broker.execute(Order{.symbol = 7, .side = Side::kBuy, .qty = 1}).status,
            ExecStatus::kRejected);
}

}  // namespace
}  // namespace pairflow::exec
