// Runs the real `pairflow` binary the way a user does and checks output, files and exit codes.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/cli_support.h"

namespace {

using namespace pairflow::testing;

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Outcome gen = run("gen --out " + tmp("ticks.csv") +
                      " --symbols 12 --pairs 2 --sectors 3 --sessions 2 --seed 5");
    ASSERT_EQ(gen.code, 0) << gen.err;
  }
};

TEST_F(Cli, HelpAndVersion) {
  Outcome help = run("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("backtest"), std::string::npos);
  EXPECT_EQ(run("--version").code, 0);
}

TEST_F(Cli, GenWritesTicksAndGroundTruth) {
  std::ifstream in(tmp("ticks.csv"));
  std::string header, first;
  std::getline(in, header);
  std::getline(in, first);
  EXPECT_EQ(header, "ts,symbol,price,size,bid,ask");
  EXPECT_EQ(first.substr(0, 11), "2024-01-02T");
  std::string truth = slurp(tmp("ticks.csv") + ".truth.json");
  EXPECT_NE(truth.find(R"("planted":[{"y":)"), std::string::npos);
  EXPECT_NE(truth.find("half_life_s"), std::string::npos);
}

TEST_F(Cli, GenWideBars) {
  Outcome r = run("gen --format bars --interval 5m --out " + tmp("wide.csv") +
                  " --symbols 4 --pairs 1 --sessions 1");
  ASSERT_EQ(r.code, 0) << r.err;
  std::string wide = slurp(tmp("wide.csv"));
  EXPECT_EQ(wide.substr(0, wide.find('\n')), "ts,S000,S001,S002,S003");
  EXPECT_EQ(lines(wide), 1 + 78);  // 390 minutes / 5
}

TEST_F(Cli, BacktestIsDeterministicAndWritesSummary) {
  const std::string common = "backtest --ticks " + tmp("ticks.csv") + " --set discovery.top_k=2";
  Outcome a = run(common + " --log-dir " + tmp("log_a") + " --summary " + tmp("summary.json"));
  ASSERT_EQ(a.code, 0) << a.err;
  Outcome b = run(common + " --log-dir " + tmp("log_b"));
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(a.out.find("net P&L"), std::string::npos);
  for (const char* f : {"/orders.jsonl", "/executions.jsonl", "/pnl.jsonl"}) {
    std::string la = slurp(tmp("log_a") + f);
    EXPECT_FALSE(la.empty()) << f;
    EXPECT_EQ(la, slurp(tmp("log_b") + f)) << f;
  }
  std::string summary = slurp(tmp("summary.json"));
  for (const char* key :
       {"\"trades\":", "\"gross_pnl\":", "\"net_pnl\":", "\"fees\":", "\"sharpe\":",
        "\"max_drawdown\":", "\"pairs\":[{\"y\":", "\"hedge_ratio\":"}) {
    EXPECT_NE(summary.find(key), std::string::npos) << key;
  }
}

TEST_F(Cli, BadRowFailsWithFileAndLine) {
  const std::string path = tmp("bad.csv");
  std::ofstream(path) << "ts,symbol,price,size\n1704205800,A,10,1\n1704205801,A,NaN,1\n";
  Outcome r = run("backtest --ticks " + path);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(lines(r.err), 1);
  EXPECT_NE(r.err.find("pairflow: " + path + ":3: price nan is not a positive number"),
            std::string::npos)
      << r.err;
  Outcome lenient = run("backtest --ticks " + path + " --max-rejects -1");
  EXPECT_EQ(lenient.code, 0) << lenient.err;
  // A NaN price is a bad price (not a malformed row), and its first example names file and line.
  EXPECT_NE(lenient.out.find("rejected 1 x bad_price: first " + path + ":3:"), std::string::npos)
      << lenient.out;
}

TEST_F(Cli, UsageErrorsAreOneLineExitTwo) {
  for (const std::string& args :
       {std::string("backtest --ticks /no/such/file.csv"), std::string("frobnicate"),
        std::string("backtest"), std::string("demo --set pair_model.entry_z=oops"),
        std::string("backtest --ticks x.csv --config /no/such.toml")}) {
    Outcome r = run(args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(lines(r.err), 1) << args << ": " << r.err;
    EXPECT_EQ(r.err.rfind("pairflow: ", 0), 0u) << r.err;
  }
}

TEST_F(Cli, StatusTopicErrorsNameTheProblem) {
  std::ofstream(tmp("status.toml")) << "status_topic = 5\n";
  Outcome r = run("run " + tmp("status.toml"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("status_topic must be a topic name"), std::string::npos) << r.err;
  std::ofstream(tmp("status.toml")) << "status_topic = \"no spaces\"\n";
  r = run("run " + tmp("status.toml"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("status_topic"), std::string::npos) << r.err;
  // Status records travel on Kafka only (judged before the job file is loaded).
  r = run("job run no_such_job.py --in - --out - --status-topic jobs.status");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--status-topic needs Kafka output"), std::string::npos) << r.err;
  std::ofstream(tmp("status.toml"))
      << "status_topic = \"jobs.status\"\n[source]\nkind = \"generator\"\n[[job]]\nname = "
         "\"bars\"\nbuiltin = \"bars\"\nin = \"ticks\"\nout = \"bars.1m\"\n";
  r = run("run " + tmp("status.toml") + " --status-topic jobs.status");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--status-topic is for --job on Kafka"), std::string::npos) << r.err;
  // In process a job reading the status topic finishes last, so nothing after it may read it.
  std::ofstream(tmp("status.toml"))
      << "status_topic = \"jobs.status\"\n[source]\nkind = \"generator\"\n[[job]]\nname = "
         "\"watch\"\nbuiltin = \"bars\"\nin = [\"ticks\", \"jobs.status\"]\nout = "
         "\"bars.1m\"\n[[job]]\nname = \"slow\"\nbuiltin = \"bars\"\nin = \"bars.1m\"\nout = "
         "\"bars.5m\"\n";
  r = run("run " + tmp("status.toml"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("job 'watch' reads the status topic 'jobs.status', so in process it "
                       "finishes after every other job; its output 'bars.1m' cannot feed job "
                       "'slow'"),
            std::string::npos)
      << r.err;
}

}  // namespace

namespace {

TEST_F(Cli, PacedReplayGivesTheSameResult) {
  // A tiny file replayed at 1e6 x event time: pacing changes wall time, never the output.
  const std::string path = tmp("paced.csv");
  std::ofstream(path) << "ts,symbol,price,size,bid,ask\n"
                         "2024-01-02T14:30:00Z,A,10.00,100,9.99,10.01\n"
                         "2024-01-02T14:31:00Z,A,10.02,100,10.01,10.03\n"
                         "2024-01-02T14:32:00Z,A,10.01,100,10.00,10.02\n";
  Outcome flat = run("backtest --ticks " + path);
  Outcome paced = run("backtest --ticks " + path + " --speed 1000000");
  ASSERT_EQ(flat.code, 0) << flat.err;
  EXPECT_EQ(flat.out, paced.out);
  EXPECT_NE(flat.out.find("ticks 3  rejected 0  symbols 1  bars 3"), std::string::npos) << flat.out;
}

TEST_F(Cli, StatsCommandsPrintJsonAndFailCleanly) {
  const std::string wide = tmp("stats_wide.csv");
  Outcome gen =
      run("gen --format bars --out " + wide + " --symbols 4 --pairs 1 --sessions 1 --seed 3");
  ASSERT_EQ(gen.code, 0) << gen.err;
  Outcome adf = run("stats adf --csv " + wide + " --col S000 --log --trend ct --autolag bic");
  ASSERT_EQ(adf.code, 0) << adf.err;
  EXPECT_EQ(adf.out.rfind("{\"stat\":", 0), 0u);
  EXPECT_NE(adf.out.find("\"crit\":{\"1%\":"), std::string::npos);
  Outcome pairs = run("stats coint --all-pairs --csv " + wide + " --log");
  ASSERT_EQ(pairs.code, 0) << pairs.err;
  EXPECT_EQ(lines(pairs.out), 6);  // 4 choose 2
  EXPECT_NE(pairs.out.find("{\"y\":\"S000\",\"x\":\"S001\",\"stat\":"), std::string::npos);
  Outcome joh =
      run("stats johansen --csv " + wide + " --cols S000,S001,S002 --det-order 0 --k-ar-diff 1");
  ASSERT_EQ(joh.code, 0) << joh.err;
  EXPECT_NE(joh.out.find("\"trace_crit\":[["), std::string::npos);
  for (const char* method : {"variance", "rs", "dfa"}) {
    Outcome h = run("stats hurst --csv " + wide + " --col S003 --method " + method);
    ASSERT_EQ(h.code, 0) << h.err;
    EXPECT_EQ(h.out.rfind("{\"hurst\":", 0), 0u);
  }

  const std::string bad = tmp("stats_bad.csv");
  std::ofstream(bad) << "ts,a,b\n1,1,2\n2,1,inf\n3,1,4\n4,1,5\n5,1,7\n";
  struct Case {
    std::string args, message;
  };
  for (const Case& c :
       {Case{"stats adf --csv " + bad + " --col z", "missing column 'z'"},
        Case{"stats adf --csv " + bad + " --col b", bad + ":3: column 'b': 'inf' is not finite"},
        Case{"stats adf --csv " + bad + " --col a", "series is constant"},
        Case{"stats coint --csv " + bad + " --y a", "give --y and --x"},
        Case{"stats adf --csv " + bad + " --col a --trend q", "--trend"}}) {
    Outcome r = run(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

}  // namespace

namespace {

TEST_F(Cli, ScreenReadsALongFileAsItsWideTwin) {
  // The same prices stacked one row per symbol and bar, as databases and downloads give them
  // (symbol-major, extra columns, the adjusted close among them): the same screen.
  const std::string wide = tmp("screen_twin_wide.csv"), stacked = tmp("screen_twin_long.csv");
  Outcome gen =
      run("gen --format bars --out " + wide + " --symbols 12 --pairs 2 --sessions 1 --seed 4");
  ASSERT_EQ(gen.code, 0) << gen.err;
  std::ifstream in(wide);
  std::vector<std::vector<std::string>> table;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::size_t from = 0;
    for (std::size_t comma; (comma = line.find(',', from)) != std::string::npos; from = comma + 1)
      fields.push_back(line.substr(from, comma - from));
    fields.push_back(line.substr(from));
    table.push_back(fields);
  }
  ASSERT_GT(table.size(), 100u);
  std::ofstream out(stacked);
  out << "Ticker,Date,Open,Adj Close,Close\n";
  for (std::size_t c = 1; c < table[0].size(); ++c)
    for (std::size_t r = 1; r < table.size(); ++r)
      if (!table[r][c].empty())
        out << table[0][c] << "," << table[r][0] << ",1," << table[r][c] << ",999\n";
  out.close();
  Outcome w = run("screen --prices " + wide + " --log --json --rank-all");
  Outcome l = run("screen --prices " + stacked + " --log --json --rank-all");
  ASSERT_EQ(w.code, 0) << w.err;
  ASSERT_EQ(l.code, 0) << l.err;
  EXPECT_EQ(l.out, w.out);
  EXPECT_NE(l.err.find("prices from column 'Adj Close'"), std::string::npos) << l.err;
  // --price-column chooses another column (here a constant: nothing can be tested).
  Outcome close = run("screen --prices " + stacked + " --price-column Close");
  EXPECT_NE(close.err.find("prices from column 'Close'"), std::string::npos) << close.err;
  // Problems name the file and line.
  const std::string dup = tmp("screen_dup.csv");
  std::ofstream(dup) << "date,symbol,close\n2024-01-02,A,10\n2024-01-02,B,20\n"
                        "2024-01-03,A,11\n2024-01-02,A,10.5\n";
  Outcome d = run("screen --prices " + dup);
  EXPECT_EQ(d.code, 2);
  EXPECT_EQ(lines(d.err), 1);
  EXPECT_NE(d.err.find(dup + ":5: symbol 'A' at 2024-01-02T00:00:00"), std::string::npos) << d.err;
  EXPECT_NE(d.err.find("(first at line 2)"), std::string::npos) << d.err;
  const std::string which = tmp("screen_which.csv");
  std::ofstream(which) << "date,ticker,open,volume\n2024-01-02,A,10,5\n";
  Outcome q = run("screen --prices " + which);
  EXPECT_EQ(q.code, 2);
  EXPECT_NE(q.err.find("which column holds the prices?"), std::string::npos) << q.err;
  EXPECT_NE(q.err.find("--price-column"), std::string::npos) << q.err;
  Outcome not_long = run("screen --prices " + wide + " --price-column Close");
  EXPECT_EQ(not_long.code, 2);
  EXPECT_NE(not_long.err.find("--price-column is for a long file"), std::string::npos);
  const std::string unnamed = tmp("screen_unnamed.csv");
  std::ofstream(unnamed) << ",A,B\n2024-01-02,10,20\n";
  Outcome u = run("screen --prices " + unnamed);
  EXPECT_EQ(u.code, 2);
  EXPECT_NE(u.err.find("the first column has no name"), std::string::npos) << u.err;
}

TEST_F(Cli, ScreenFindsThePlantedPairsOfAWideFile) {
  const std::string wide = tmp("screen_wide.csv");
  Outcome gen =
      run("gen --format bars --out " + wide + " --symbols 30 --pairs 3 --sessions 2 --seed 9");
  ASSERT_EQ(gen.code, 0) << gen.err;
  Outcome r = run("screen --prices " + wide + " --log --json");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* key :
       {"\"y\":", "\"x\":", "\"corr\":", "\"stat\":", "\"pvalue\":", "\"hedge_ratio\":",
        "\"half_life\":", "\"hurst\":", "\"crossings\":", "\"score\":"}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key;
  }
  // Every planted pair (from the ground truth) is in the output, in one direction or the other.
  const std::string truth = slurp(wide + ".truth.json");
  int planted = 0, found = 0;
  for (std::size_t at = truth.find("{\"y\":"); at != std::string::npos;
       at = truth.find("{\"y\":", at + 1)) {
    const std::string y = truth.substr(at + 6, 4),
                      x = truth.substr(truth.find("\"x\":", at) + 5, 4);
    ++planted;
    found += r.out.find("\"y\":\"" + y + "\",\"x\":\"" + x + "\"") != std::string::npos ||
             r.out.find("\"y\":\"" + x + "\",\"x\":\"" + y + "\"") != std::string::npos;
  }
  EXPECT_EQ(planted, 3);
  EXPECT_EQ(found, 3) << r.out;
  const std::string bad = tmp("screen_bad.csv");
  std::ofstream(bad) << "ts,A,B\n1,10,20\n2,x,21\n";
  Outcome b = run("screen --prices " + bad);
  EXPECT_EQ(b.code, 2);
  EXPECT_EQ(lines(b.err), 1);
  EXPECT_NE(b.err.find(bad + ":3:"), std::string::npos) << b.err;
  // A window the table cannot fill, or too short for a test, is refused with one line.
  Outcome long_window = run("screen --prices " + wide + " --window 100000");
  EXPECT_EQ(long_window.code, 2);
  EXPECT_EQ(lines(long_window.err), 1);
  EXPECT_NE(long_window.err.find(wide + ": window 100000 needs at least 100001 rows"),
            std::string::npos)
      << long_window.err;
  Outcome short_window = run("screen --prices " + wide + " --window 3");
  EXPECT_EQ(short_window.code, 2);
  EXPECT_EQ(lines(short_window.err), 1);
  EXPECT_NE(short_window.err.find("--window"), std::string::npos) << short_window.err;
}

TEST_F(Cli, FeaturesWritesBarsWithIndicatorColumns) {
  const std::string out = tmp("features.csv");
  Outcome r = run("features --ticks " + tmp("ticks.csv") +
                  " --bars 1m --indicators ema:5,rsi:14 --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(out);
  std::string header, first;
  std::getline(in, header);
  std::getline(in, first);
  EXPECT_EQ(header, "ts,symbol,open,high,low,close,volume,vwap,count,ema_5,rsi_14");
  EXPECT_EQ(first.substr(0, 11), "2024-01-02T");
  Outcome bad =
      run("features --ticks " + tmp("ticks.csv") + " --bars 1m --indicators ema:x --out " + out);
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(lines(bad.err), 1) << bad.err;
}

}  // namespace
