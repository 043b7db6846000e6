#include <gtest/gtest.h>

#include "model/json.h"

namespace pairflow {
namespace {

TEST(Json, OrderAndExecutionAreStableText) {
  SymbolTable symbols;
  SymbolId id = symbols.intern("A\"B");
  Order order{
      .client_order_id = 7, .ts = 1000, .symbol = id, .side = Side::kSell, .qty = 12, .pair = 3};
  EXPECT_EQ(
      to_json(order, symbols),
      R"({"client_order_id":7,"ts":1000,"symbol":"A\"B","side":"sell","qty":12,"type":"market","pair":3})");
  Execution exec{.client_order_id = 7,
                 .ts = 1000,
                 .symbol = id,
                 .side = Side::kSell,
                 .qty = 12,
                 .price = 0.1,
                 .fee = 0.25};
  EXPECT_EQ(
      to_json(exec, symbols),
      R"({"client_order_id":7,"ts":1000,"symbol":"A\"B","side":"sell","qty":12,"price":0.1,"fee":0.25,"status":"filled"})");
}

TEST(Json, NaNBecomesNullAndQuoteIsOptional) {
  SymbolTable symbols;
  Tick tick{.ts = 5, .symbol = symbols.intern("X"), .price = 10.5, .size = 100};
  EXPECT_EQ(to_json(tick, symbols), R"({"ts":5,"symbol":"X","price":10.5,"size":100})");
  Signal signal{.ts = 1, .pair = 0, .z = kNaN, .hedge_ratio = -0.5, .action = SignalAction::kExit};
  EXPECT_EQ(to_json(signal), R"({"ts":1,"pair":0,"z":null,"hedge_ratio":-0.5,"action":"exit"})");
}

}  // namespace
}  // namespace pairflow
