#include "report/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace pairflow::report {
namespace {

constexpr Timestamp kMinute = 60'000'000'000LL, kDay = 86'400'000'000'000LL;

RunData run_of(const std::vector<double>& equity, Timestamp step = kDay) {
  RunData run;
  run.capital = 100.0;
  for (std::size_t i = 0; i < equity.size(); ++i)
    run.equity.push_back(
        {static_cast<Timestamp>(i) * step + kMinute, equity[i], equity[i] - 100.0, 0.0});
  return run;
}

TEST(Report, DailyReturnsDrawdownAndRatios) {
  // One slice a day: 100 -> 110 -> 99 -> 104.5 -> 115.
  RunData run = run_of({110, 99, 104.5, 115});
  Metrics m = compute_metrics(run, {}, ReportOptions{});
  ASSERT_EQ(m.days, 4);
  const std::vector<double> r = {0.10, -0.10, 104.5 / 99 - 1, 115 / 104.5 - 1};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(m.daily_returns[i].second, r[i], 1e-12);
  EXPECT_NEAR(m.total_return, 0.15, 1e-12);
  EXPECT_NEAR(m.annual_return, std::pow(1.15, 252.0 / 4) - 1, 1e-9);
  EXPECT_NEAR(m.max_drawdown, 99.0 / 110 - 1, 1e-12);
  EXPECT_NEAR(m.max_drawdown_days, 3.0, 1e-12);  // peak on day 0, regained on day 3
  double mean = 0;
  for (double x : r) mean += x / 4;
  double ss = 0, down = 0;
  for (double x : r) {
    ss += (x - mean) * (x - mean);
    down += std::min(x, 0.0) * std::min(x, 0.0);
  }
  EXPECT_NEAR(m.sharpe, mean / std::sqrt(ss / 3) * std::sqrt(252.0), 1e-9);
  EXPECT_NEAR(m.sortino, mean / std::sqrt(down / 4) * std::sqrt(252.0), 1e-9);
  EXPECT_NEAR(m.calmar, m.annual_return / (1 - 99.0 / 110), 1e-9);
  // A risk-free rate lowers the Sharpe ratio by its daily rate over the same deviation.
  ReportOptions rf;
  rf.risk_free = 0.05;
  const double daily_rf = std::pow(1.05, 1.0 / 252) - 1;
  EXPECT_NEAR(compute_metrics(run, {}, rf).sharpe,
              (mean - daily_rf) / std::sqrt(ss / 3) * std::sqrt(252.0), 1e-9);
}

TEST(Report, RoundTripsPerPairFromFlatToFlat) {
  RunData run = run_of({100, 100, 100, 100});
  // Pair 0: buy 10 A @ 10, sell 5 B @ 20; then close at 11 and 19: +10 + 5 = 15, minus fees 4.
  run.fills = {{kMinute, "A", 10, 10, 1, 0}, {kMinute, "B", -5, 20, 1, 0},
               {kDay, "A", -10, 11, 1, 0},   {kDay + 1, "B", 5, 19, 1, 0},
               {2 * kDay, "A", 3, 10, 0, 1}, {2 * kDay, "C", -3, 10, 0, 1}};
  auto trips = round_trips(run);
  ASSERT_EQ(trips.size(), 1u);  // pair 1 is still open
  EXPECT_EQ(trips[0].pair, 0);
  EXPECT_EQ(trips[0].legs, "A/B");
  EXPECT_NEAR(trips[0].pnl, 11.0, 1e-12);
  EXPECT_NEAR(trips[0].fees, 4.0, 1e-12);
  Metrics m = compute_metrics(run, trips, ReportOptions{});
  EXPECT_EQ(m.trades, 1);
  EXPECT_EQ(m.win_rate, 1.0);
  EXPECT_TRUE(std::isnan(m.profit_factor));  // no losing trip
  EXPECT_NEAR(m.turnover, (100 + 100 + 110 + 95 + 30 + 30) / 100.0, 1e-12);
  // Positions open after slices 0 (A, B), 2 and 3 (pair 1): 3 of 4.
  EXPECT_NEAR(m.exposure, 0.75, 1e-12);
}

TEST(Report, HtmlIsSelfContainedAndDeterministic) {
  RunData run = run_of({100, 101, 100.5, 102, 101, 103}, kMinute * 30);
  run.fills = {{kMinute, "A<x>", 1, 10, 0.1, 0}, {2 * kMinute, "A<x>", -1, 11, 0.1, 0}};
  auto trips = round_trips(run);
  ReportOptions options;
  options.rolling_window = 3;
  const std::string a = render_html(run, trips, compute_metrics(run, trips, options), options);
  const std::string b = render_html(run, trips, compute_metrics(run, trips, options), options);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.find("http"), std::string::npos);  // nothing to fetch
  EXPECT_EQ(a.find("<script"), std::string::npos);
  EXPECT_NE(a.find("A&lt;x&gt;"), std::string::npos);  // names are escaped
  EXPECT_NE(a.find("<svg"), std::string::npos);
  EXPECT_NE(a.find("Sharpe ratio"), std::string::npos);
}

TEST(Report, ReadRunNamesFileAndLineOfBadInput) {
  const auto dir = std::filesystem::temp_directory_path() / "pairflow_report_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  EXPECT_THROW(read_run((dir / "missing").string()), UserError);
  try {
    read_run(dir.string());
    FAIL() << "no pnl.jsonl";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("no pnl.jsonl"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "pnl.jsonl") << R"({"ts":60,"equity":100,"net_pnl":0,"fees":0})"
                                   << "\n"
                                   << R"({"ts":120,"equity":"x","net_pnl":0,"fees":0})"
                                   << "\n";
  try {
    read_run(dir.string());
    FAIL() << "bad equity";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("pnl.jsonl:2: field 'equity'"), std::string::npos)
        << e.what();
  }
  std::ofstream(dir / "pnl.jsonl") << R"({"ts":60,"equity":100,"net_pnl":0,"fees":0})"
                                   << "\n";
  std::ofstream(dir / "executions.jsonl") << R"({"ts":60,"symbol":"A","side":"hold","qty":1,)"
                                          << R"("price":1,"fee":0})"
                                          << "\n";
  try {
    read_run(dir.string());
    FAIL() << "bad side";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("executions.jsonl:1: side"), std::string::npos)
        << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pairflow::report
