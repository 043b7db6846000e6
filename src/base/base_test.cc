#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <limits>

#include "base/csv.h"
#include "base/symbols.h"
#include "base/time.h"

namespace pairflow {
namespace {

TEST(Time, ParsesIsoWithFraction) {
  auto ts = parse_timestamp("2024-01-02T14:30:00.123Z");
  ASSERT_TRUE(ts.is_ok());
  EXPECT_EQ(*ts, 1704205800123000000LL);
  EXPECT_EQ(format_timestamp(*ts), "2024-01-02T14:30:00.123Z");
}

TEST(Time, ParsesEpochUnits) {
  EXPECT_EQ(*parse_timestamp("1704205800"), 1704205800LL * kNanosPerSecond);
  EXPECT_EQ(*parse_timestamp("1704205800123"), 1704205800123000000LL);
  EXPECT_EQ(*parse_timestamp("1704205800123000000"), 1704205800123000000LL);
  EXPECT_EQ(*parse_timestamp("1704205800.5"), 1704205800500000000LL);
}

TEST(Time, IsoVariantsAgree) {
  Timestamp expected = *parse_timestamp("2024-02-29T00:00:00Z");
  EXPECT_EQ(*parse_timestamp("2024-02-29 00:00:00"), expected);
  EXPECT_EQ(*parse_timestamp("2024-02-29T00:00:00+00:00"), expected);
  EXPECT_EQ(*parse_timestamp("2024-02-29"), expected);
  EXPECT_EQ(format_timestamp(expected + 1), "2024-02-29T00:00:00.000000001Z");
}

TEST(Time, EightDigitsAreADateNotEpochSeconds) {
  const Timestamp day = *parse_timestamp("2024-01-02");
  EXPECT_EQ(*parse_timestamp("20240102"), day);
  EXPECT_EQ(*parse_timestamp("20240102T1430Z"), day + 14 * kNanosPerHour + 30 * kNanosPerMinute);
  EXPECT_EQ(*parse_timestamp("20240102T143000.25Z"),
            day + 14 * kNanosPerHour + 30 * kNanosPerMinute + kNanosPerSecond / 4);
  EXPECT_FALSE(parse_timestamp("20240102T14").is_ok());
  EXPECT_FALSE(parse_timestamp("20240230T1430").is_ok());
  // Eight digits that are no date stay epoch seconds; ten digits are epoch seconds.
  EXPECT_EQ(*parse_timestamp("12345678"), 12345678 * kNanosPerSecond);
  EXPECT_EQ(*parse_timestamp("1704205800"), 1704205800LL * kNanosPerSecond);
}

TEST(Time, RejectsGarbage) {
  EXPECT_FALSE(parse_timestamp("").is_ok());
  EXPECT_FALSE(parse_timestamp("yesterday").is_ok());
  EXPECT_FALSE(parse_timestamp("2023-02-29T00:00:00Z").is_ok());
  EXPECT_FALSE(parse_timestamp("2024-01-02T25:00:00Z").is_ok());
  EXPECT_FALSE(parse_timestamp("2024-01-02T10:00:00+05:00").is_ok());
  EXPECT_FALSE(parse_timestamp("12abc").is_ok());
}

TEST(Time, OutOfRangeIsAnErrorNotAnOverflow) {
  EXPECT_FALSE(parse_timestamp("20000000000").is_ok());  // seconds in year 2603
  EXPECT_FALSE(parse_timestamp("-9223372036854775808").is_ok());
  EXPECT_FALSE(parse_timestamp("1500-01-01").is_ok());
  EXPECT_FALSE(parse_timestamp("2262-04-12T00:00:00Z").is_ok());
  EXPECT_FALSE(parse_timestamp("99999999999999999").is_ok());  // microseconds in year 5138
  EXPECT_TRUE(parse_timestamp("1900-01-01").is_ok());
  EXPECT_TRUE(parse_timestamp("2199-12-31T23:59:59.999999999Z").is_ok());
}

TEST(Time, BeforeEpochRoundTrips) {
  Timestamp ts = *parse_timestamp("1969-12-31T23:59:59.5Z");
  EXPECT_EQ(ts, -kNanosPerSecond / 2);
  EXPECT_EQ(format_timestamp(ts), "1969-12-31T23:59:59.500Z");
  EXPECT_EQ(align_down(ts, kNanosPerSecond), -kNanosPerSecond);
}

TEST(Time, Durations) {
  EXPECT_EQ(*parse_duration("1m"), kNanosPerMinute);
  EXPECT_EQ(*parse_duration("500ms"), kNanosPerSecond / 2);
  EXPECT_EQ(*parse_duration("30"), 30 * kNanosPerSecond);
  EXPECT_FALSE(parse_duration("5 parsecs").is_ok());
  EXPECT_FALSE(parse_duration("0s").is_ok());
}

TEST(Csv, ReadsFieldsLinesAndQuotes) {
  std::string path = ::testing::TempDir() + "/csv_test.csv";
  {
    std::ofstream out(path);
    out << "a,b,c\r\n1, 2 ,3\n\n\"x,y\",\"q\"\"q\",\n4,5";
  }
  CsvReader reader(path);
  ASSERT_TRUE(reader.next());
  CsvHeader header(reader);
  EXPECT_EQ(header.require("c"), 2);
  EXPECT_EQ(header.index("zz"), -1);
  EXPECT_THROW(header.require("zz"), UserError);
  ASSERT_TRUE(reader.next());
  EXPECT_EQ(reader.fields()[1], "2");
  ASSERT_TRUE(reader.next());
  EXPECT_EQ(reader.line(), 4u);
  ASSERT_EQ(reader.fields().size(), 3u);
  EXPECT_EQ(reader.fields()[0], "x,y");
  EXPECT_EQ(reader.fields()[1], "q\"q");
  EXPECT_EQ(reader.fields()[2], "");
  ASSERT_TRUE(reader.next());
  EXPECT_EQ(reader.fields()[1], "5");
  EXPECT_EQ(reader.where("boom"), path + ":5: boom");
  EXPECT_FALSE(reader.next());
}

TEST(Csv, MissingFileIsUserError) { EXPECT_THROW(CsvReader("/nonexistent/file.csv"), UserError); }

TEST(Csv, ParseDoubleIsStrict) {
  EXPECT_DOUBLE_EQ(*parse_double("101.25"), 101.25);
  EXPECT_FALSE(parse_double("nan").is_ok());
  EXPECT_FALSE(parse_double("inf").is_ok());
  EXPECT_FALSE(parse_double("1.2.3").is_ok());
  EXPECT_FALSE(parse_double("").is_ok());
}

TEST(Symbols, DenseFirstSeenIds) {
  SymbolTable table;
  EXPECT_EQ(table.intern("MSFT"), 0u);
  EXPECT_EQ(table.intern("AAPL"), 1u);
  EXPECT_EQ(table.intern("MSFT"), 0u);
  EXPECT_EQ(table.name(1), "AAPL");
  EXPECT_FALSE(table.find("GOOG").has_value());
}

}  // namespace
}  // namespace pairflow

#include "base/buffered_file.h"
#include "base/json_writer.h"
#include "base/reject_policy.h"

namespace pairflow {
namespace {

TEST(JsonWriter, CommasEscapesAndShortestNumbers) {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .field("s", "a\"b\n")
      .field("n", 0.1)
      .field("nan", std::numeric_limits<double>::quiet_NaN())
      .field("i", -7);
  w.field("u", std::uint64_t{18446744073709551615u}).field("t", true).key("a").begin_array();
  w.value(1.5).null().begin_object().end_object().begin_array().end_array().end_array();
  w.raw_field("raw", R"({"x":[1]})").end_object();
  EXPECT_EQ(out, R"({"s":"a\"b\n","n":0.1,"nan":null,"i":-7,"u":18446744073709551615,"t":true,)"
                 R"("a":[1.5,null,{},[]],"raw":{"x":[1]}})");
}

TEST(RejectPolicy, FailsAtTheLimitNamingTheSetting) {
  RejectPolicy strict(0, "input.max_rejects");
  EXPECT_THROW(strict.on_reject("f.csv:2: bad"), UserError);
  RejectPolicy two(2, "--max-rejects");
  two.on_reject("f.csv:2: a");
  two.on_reject("f.csv:3: b");
  try {
    two.on_reject("f.csv:4: c");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), "f.csv:4: c (more than --max-rejects 2 bad rows)");
  }
  RejectPolicy any(-1, "x");
  for (int i = 0; i < 100; ++i) any.on_reject("r" + std::to_string(i));
  EXPECT_EQ(any.count(), 100);
  EXPECT_EQ(any.first(), "r0");
}

TEST(BufferedFile, WritesEverythingOrFailsNamingTheFile) {
  const std::string path = ::testing::TempDir() + "/buffered.txt";
  BufferedFile f(path);
  for (int i = 0; i < 200000; ++i) f.append("0123456789");  // several flushes
  f.close();
  std::ifstream in(path, std::ios::ate);
  EXPECT_EQ(static_cast<long>(in.tellg()), 2000000);
  EXPECT_THROW(BufferedFile("/no/such/dir/x.txt"), UserError);
  BufferedFile full("/dev/full");
  full.append("x");
  EXPECT_THROW(full.close(), UserError);  // the full disk is noticed, not swallowed
}

}  // namespace
}  // namespace pairflow
