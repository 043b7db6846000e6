// Defects a new user hit by trying pairflow on small and odd inputs (issue "Reliability"): each
// test failed before its fix. They run the real binary: bad input must end in a one-line error
// naming the problem (exit 2) or a counted reject, never a crash, a hang or silent guessing.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <fstream>
#include <string>

#include "support/cli_support.h"

namespace {

using namespace pairflow::testing;

std::string write(const std::string& name, const std::string& text) {
  std::string path = tmp(name);
  std::ofstream(path) << text;
  return path;
}

// Exit 2 with exactly one line on stderr that contains `needle`.
void expect_one_line_error(const Outcome& r, const std::string& needle, const std::string& what) {
  EXPECT_EQ(r.code, 2) << what << ": " << r.err;
  EXPECT_EQ(lines(r.err), 1) << what << ": " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << what << ": " << r.err;
}

TEST(UnknownCommand, IsNamedNotAnsweredWithTheRootHelp) {
  expect_one_line_error(run("nonsense"), "unknown command 'nonsense'", "pairflow nonsense");
  const Outcome help = run("nonsense --help");
  expect_one_line_error(help, "unknown command 'nonsense'", "pairflow nonsense --help");
  EXPECT_EQ(help.out, "");
  expect_one_line_error(run("job nonsense"), "unknown command 'job nonsense'", "job nonsense");
  EXPECT_EQ(run("screen --help").code, 0);
}

TEST(Screen, TinyFilesAreRefusedWithTheirSize) {
  expect_one_line_error(run("screen --prices " + write("one.csv", "ts,A,B\n1,2,3\n")),
                        "1 data row: the screen needs at least 21", "one row");
  expect_one_line_error(run("screen --prices " + write("header.csv", "ts,A,B\n")), "0 data rows",
                        "header only");
  std::string three = "ts,A,B\n";
  for (int i = 0; i < 3; ++i) three += std::to_string(1704205800 + 60 * i) + ",2,3\n";
  expect_one_line_error(run("screen --prices " + write("three.csv", three)), "3 data rows",
                        "three rows");
}

// A wide file of `rows` rows: ts in epoch seconds, then A and B.
std::string wide(int rows, bool reversed = false) {
  std::string text = "ts,A,B,C\n";
  for (int i = 0; i < rows; ++i) {
    const int t = reversed ? rows - 1 - i : i;
    text += std::to_string(1704205800 + 60 * t) + "," + std::to_string(100 + (t * 7) % 5) + "," +
            std::to_string(50 + (t * 3) % 7) + "," + std::to_string(20 + (t * 5) % 3) + "\n";
  }
  return text;
}

TEST(Screen, FirstColumnMustBeIncreasingTime) {
  expect_one_line_error(run("screen --prices " + write("reversed.csv", wide(40, true))),
                        "rows must be in increasing time order", "reversed");
  std::string no_ts = "A,B,C\n";
  for (int i = 0; i < 40; ++i) no_ts += std::to_string(100 + i) + ",2,3\n";
  expect_one_line_error(run("screen --prices " + write("no_ts.csv", no_ts)),
                        "the first column is 'A', expected the time column", "no ts column");
  std::string words = "ts,A,B\n";
  for (int i = 0; i < 40; ++i) words += "row" + std::to_string(i) + ",2,3\n";
  expect_one_line_error(run("screen --prices " + write("words.csv", words)), "column 1 (time)",
                        "non-time first column");
  EXPECT_EQ(run("screen --prices " + write("ok.csv", wide(40))).code, 0);
}

TEST(Screen, DuplicateSymbolsAreRefusedAndUntestableColumnsNamed) {
  std::string dup = wide(40);
  dup.replace(0, dup.find('\n'), "ts,A,B,A");
  expect_one_line_error(run("screen --prices " + write("dup.csv", dup)),
                        "symbol 'A' names columns 2 and 4", "duplicate symbol");
  std::string flat = "ts,A,B,C,D\n";
  for (int i = 0; i < 40; ++i) {
    flat += std::to_string(1704205800 + 60 * i) + "," + std::to_string(100 + (i * 7) % 5) + "," +
            std::to_string(50 + (i * 3) % 7) + ",7,\n";
  }
  const Outcome r = run("screen --prices " + write("flat.csv", flat));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("2 of 4 columns cannot be tested"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("C (constant in the window)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("D (no values in the window)"), std::string::npos) << r.err;
}

TEST(PipelineFile, CyclesAreRefusedWhenTheFileIsLoaded) {
  const std::string self = write("self.toml", R"(
[source]
set = ["market.symbols=4", "market.sessions=1"]
[[job]]
name = "bars"
builtin = "bars"
in = "ticks"
out = "ticks"
)");
  expect_one_line_error(run("run " + self), "job 'bars' writes 'ticks', which", "self cycle");
  const std::string back = write("back.toml", R"(
[source]
set = ["market.symbols=4", "market.sessions=1"]
[[job]]
name = "bars"
builtin = "bars"
in = "ticks"
out = "bars.1m"
[[job]]
name = "again"
builtin = "bars"
in = "bars.1m"
out = "bars.1m"
)");
  expect_one_line_error(run("run " + back), "a cycle", "cycle through an earlier topic");
}

TEST(PipelineFile, TopicNamesFollowKafkasRules) {
  const std::string slash = write("slash.toml", R"(
[source]
set = ["market.symbols=4", "market.sessions=1"]
[[job]]
name = "bars"
builtin = "bars"
in = "ticks"
out = "bars/1m"
)");
  expect_one_line_error(run("run " + slash + " --out-dir " + tmp("out_slash")),
                        "topic 'bars/1m': '/' is not allowed", "slash in a topic");
  expect_one_line_error(run("job run x.py --in - --out ../evil"), "'/' is not allowed",
                        "job run --out");
  expect_one_line_error(run("kafka-mock --topics 'a b'"), "' ' is not allowed", "kafka-mock");
}

TEST(PipelineFile, UnknownBuiltinParametersAreErrors) {
  const std::string typo = write("typo.toml", R"(
[source]
set = ["market.symbols=4", "market.sessions=1"]
[[job]]
name = "bars"
builtin = "bars"
in = "ticks"
out = "bars.1m"
params = { intervl = "5m" }
)");
  expect_one_line_error(
      run("run " + typo),
      "unknown parameter 'intervl' (it takes: interval, warmup, history, warmup_topic)",
      "typo in params");
}

TEST(Config, TopKZeroIsRefused) {
  expect_one_line_error(run("demo --set discovery.top_k=0"), "discovery.top_k must be >= 1",
                        "top_k 0");
}

TEST(Features, SymbolsWithCommasAreQuotedPerRfc4180) {
  std::string ticks = "ts,symbol,price,size\n";
  for (int i = 0; i < 10; ++i)
    ticks += std::to_string(1704205800 + 30 * i) + ",\"BRK,B\"," + std::to_string(400 + i) + ",1\n";
  const std::string out = tmp("brk_features.csv");
  const Outcome r = run("features --ticks " + write("brk.csv", ticks) + " --bars 1m --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(out);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  EXPECT_EQ(header, "ts,symbol,open,high,low,close,volume,vwap,count");
  EXPECT_EQ(row, "2024-01-02T14:30:00.000Z,\"BRK,B\",400,401,400,401,2,400.5,2");
}

TEST(Features, HugeLatenessDoesNotCostMemoryPerInterval) {
  std::string ticks = "ts,symbol,price,size\n";
  for (int i = 0; i < 200; ++i) {
    ticks += std::to_string(1704205800 + i) + ",S" + std::to_string(i % 20) + "," +
             std::to_string(100 + i % 3) + ",1\n";
  }
  const std::string in = write("late.csv", ticks), out = tmp("late_features.csv");
  // 1-second bars with a year of lateness: a dense ring would need 20 x 31.5M bar slots (tens of
  // GB, touched when zeroed). The command's peak memory (this test process has no other child)
  // stays small. Measured as peak RSS rather than capped with ulimit -v, which ASan cannot run under.
  const Outcome r = run("features --ticks " + in + " --bars 1s --lateness 365d --out " + out);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  struct rusage usage {};
  getrusage(RUSAGE_CHILDREN, &usage);
  EXPECT_LT(usage.ru_maxrss, 600 * 1024) << "peak RSS in KiB";
  EXPECT_NE(slurp(out).find("2024-01-02T14:33:19.000Z,S19"), std::string::npos);
}

TEST(Ticks, EightDigitDatesAreDates) {
  std::string ticks = "ts,symbol,price,size\n20240102,A,10,1\n20240103,A,11,1\n";
  const std::string out = tmp("days.csv");
  const Outcome r =
      run("features --ticks " + write("daily.csv", ticks) + " --bars 1d --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(slurp(out).find("2024-01-02T00:00:00.000Z,A,10"), std::string::npos) << slurp(out);
}

}  // namespace
