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

#include "model/json_parse.h"

namespace pairflow {
namespace {

TEST(TickParser, RoundTripsTheJsonForm) {
  SymbolTable symbols;
  TickParser parser;
  Tick in{.ts = 1704205800123000000,
          .symbol = symbols.intern("AAA"),
          .price = 10.5,
          .size = 100,
          .bid = 10.49,
          .ask = 10.51};
  auto out = parser.parse(to_json(in, symbols), symbols);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out->ts, in.ts);
  EXPECT_EQ(out->symbol, in.symbol);
  EXPECT_EQ(out->price, in.price);
  EXPECT_EQ(out->bid, in.bid);
  auto iso = parser.parse(
      R"({"ts":"2024-01-02T14:30:00.123Z","symbol":"B","price":1,"size":2,"bid":null})", symbols);
  ASSERT_TRUE(iso.is_ok());
  EXPECT_EQ(iso->ts, in.ts);
  EXPECT_FALSE(iso->has_quote());
}

TEST(TickParser, NamesWhatIsWrong) {
  SymbolTable symbols;
  TickParser parser;
  EXPECT_EQ(parser.parse("garbage", symbols).status().code(), StatusCode::kParseError);
  EXPECT_EQ(parser.parse("[1]", symbols).status().message(), "not a JSON object");
  EXPECT_EQ(parser.parse(R"({"ts":1,"symbol":"A","size":1})", symbols).status().message(),
            "field 'price' is missing");
  EXPECT_EQ(
      parser.parse(R"({"ts":1,"symbol":"A","price":"x","size":1})", symbols).status().message(),
      "field 'price' is not a number");
  EXPECT_EQ(
      parser.parse(R"({"ts":true,"symbol":"A","price":1,"size":1})", symbols).status().message(),
      "field 'ts' is not a time");
  EXPECT_EQ(symbols.size(), 0u);  // nothing interned for rejected messages
}

}  // namespace
}  // namespace pairflow
