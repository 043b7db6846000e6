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

#include "model/binary_codec.h"

namespace pairflow {
namespace {

TEST(BinaryCodec, RoundTripsEverySchemaAndIsCompact) {
  SymbolTable symbols;
  SymbolId s = symbols.intern("MSFT");
  Tick tick{.ts = 1704205800123456789,
            .symbol = s,
            .price = 101.25,
            .size = 300,
            .bid = 101.24,
            .ask = 101.26};
  Bar bar{.ts = 60,
          .symbol = s,
          .open = 1,
          .high = 2,
          .low = 0.5,
          .close = 1.5,
          .volume = 10,
          .vwap = 1.2,
          .count = 7};
  Signal signal{
      .ts = 5, .pair = 3, .z = -2.25, .hedge_ratio = 0.8, .action = SignalAction::kEnterLong};
  Order order{
      .client_order_id = 9, .ts = 5, .symbol = s, .side = Side::kSell, .qty = 12, .pair = 3};
  Execution exec{.client_order_id = 9,
                 .ts = 5,
                 .symbol = s,
                 .side = Side::kSell,
                 .qty = 12,
                 .price = 99.5,
                 .fee = 0.1};
  PnL pnl{.ts = 5, .cash = 1e6, .equity = 1.01e6, .gross_pnl = 1e4, .fees = 10, .net_pnl = 9990};
  TickParser parser;
  const std::string tick_json = to_json(tick, symbols);
  auto encoded = json_to_binary(Schema::kTick, tick_json);
  ASSERT_TRUE(encoded.is_ok()) << encoded.status().message();
  EXPECT_LT(encoded->size(), tick_json.size() * 6 / 10);
  auto decoded = binary_to_json(*encoded);
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(*decoded, tick_json);
  for (auto [schema, json] :
       {std::pair{Schema::kBar, to_json(bar, symbols)}, std::pair{Schema::kSignal, to_json(signal)},
        std::pair{Schema::kOrder, to_json(order, symbols)},
        std::pair{Schema::kExecution, to_json(exec, symbols)},
        std::pair{Schema::kPnl, to_json(pnl)}}) {
    auto bytes = json_to_binary(schema, json);
    ASSERT_TRUE(bytes.is_ok()) << json << ": " << bytes.status().message();
    auto back = binary_to_json(*bytes);
    ASSERT_TRUE(back.is_ok());
    EXPECT_EQ(
        *back,
        schema == Schema::kOrder
            ? R"({"client_order_id":9,"ts":5,"symbol":"MSFT","side":"sell","qty":12,"type":"market","limit":null,"pair":3})"
            : json);
  }
  // A tick without a quote: the absent bid/ask come back as null, which parses to "no quote".
  Tick bare{.ts = 1, .symbol = s, .price = 2, .size = 3};
  auto back = binary_to_json(*json_to_binary(Schema::kTick, to_json(bare, symbols)));
  ASSERT_TRUE(back.is_ok());
  EXPECT_FALSE(parser.parse(*back, symbols)->has_quote());
}

TEST(BinaryCodec, RejectsBadInputWithReasons) {
  EXPECT_EQ(json_to_binary(Schema::kTick, R"({"ts":1,"symbol":"A","price":"x","size":1})")
                .status()
                .message(),
            "field 'price' must be a number");
  EXPECT_EQ(
      json_to_binary(Schema::kSignal, R"({"ts":1,"pair":0,"z":1,"hedge_ratio":1,"action":"dance"})")
          .status()
          .message(),
      "field 'action' has an unknown value");
  auto good = json_to_binary(Schema::kPnl,
                             R"({"ts":1,"cash":1,"equity":1,"gross_pnl":0,"fees":0,"net_pnl":0})");
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(binary_to_json(good->substr(0, good->size() - 1)).status().message(),
            "binary message is truncated");
  EXPECT_EQ(binary_to_json(*good + "x").status().message(), "binary message has trailing bytes");
  EXPECT_FALSE(binary_to_json("{\"json\":1}").is_ok());
  EXPECT_EQ(schema_for_topic("bars.1m"), Schema::kBar);
  EXPECT_FALSE(schema_for_topic("features.joined").has_value());
  EXPECT_EQ(binary_to_json(std::string("PF\x02\x01", 4)).status().message(),
            "unsupported binary version 2");
  EXPECT_EQ(binary_to_json(std::string("PF\x01\x09", 4)).status().message(), "unknown schema 9");
}

TEST(BinaryCodec, RecordsCarryAnyFlatObject) {
  const std::string json =
      R"({"ts":1704205800000000001,"symbol":"MS\"FT","z":-2.5,"n":-3,"ok":true,"gone":null,)"
      R"("big":18446744073709551615,"e":1e300})";
  auto bytes = json_to_binary(Schema::kRecord, json);
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().message();
  EXPECT_EQ(*binary_schema(*bytes), Schema::kRecord);
  auto back = binary_to_json(*bytes);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(*back,
            R"({"ts":1704205800000000001,"symbol":"MS\"FT","z":-2.5,"n":-3,"ok":true,"gone":null,)"
            R"("big":1.8446744073709552e+19,"e":1e+300})");
  // Same shape, same shape bytes: what decoders key their column layout on.
  auto other = json_to_binary(Schema::kRecord,
                              R"({"ts":2,"symbol":"A","z":0.5,"n":1,"ok":false,"gone":null,)"
                              R"("big":1.5,"e":2.0})");
  ASSERT_TRUE(other.is_ok());
  const std::size_t shape = 8 + static_cast<unsigned char>((*bytes)[6]);
  EXPECT_EQ(bytes->substr(0, shape), other->substr(0, shape));
  EXPECT_EQ(*binary_to_json(*json_to_binary(Schema::kRecord, "{}")), "{}");

  EXPECT_EQ(json_to_binary(Schema::kRecord, R"({"a":1,"b":[1,2]})").status().message(),
            "field 'b' is not a scalar (records are flat)");
  EXPECT_EQ(json_to_binary(Schema::kRecord, "[1]").status().message(), "not a JSON object");
  for (std::size_t cut = 4; cut < bytes->size(); ++cut) {
    EXPECT_FALSE(binary_to_json(bytes->substr(0, cut)).is_ok()) << cut;
  }
  EXPECT_EQ(binary_to_json(*bytes + "x").status().message(), "binary message has trailing bytes");
}

}  // namespace
}  // namespace pairflow
