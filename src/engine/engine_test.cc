#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/run_drivers.h"
#include "engine/tick_source.h"

namespace pairflow::engine {
namespace {

std::string temp_file(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, ExampleFileLoadsAndMatchesDefaults) {
  const char* root = std::getenv("PAIRFLOW_SOURCE_DIR");
  if (!root) root = PAIRFLOW_SOURCE_DIR_DEFAULT;
  EngineConfig loaded = load_config(std::string(root) + "/examples/demo.toml");
  EngineConfig defaults;
  EXPECT_EQ(loaded.market.seed, defaults.market.seed);
  EXPECT_EQ(loaded.market.symbols, defaults.market.symbols);
  EXPECT_EQ(loaded.bar_interval, defaults.bar_interval);
  EXPECT_EQ(loaded.warmup_bars, defaults.warmup_bars);
  EXPECT_EQ(loaded.discovery.top_k, defaults.discovery.top_k);
  EXPECT_EQ(loaded.pair_model.window, defaults.pair_model.window);
  EXPECT_EQ(loaded.pair_model.entry_z, defaults.pair_model.entry_z);
  EXPECT_EQ(loaded.sizing.capital_per_pair, defaults.sizing.capital_per_pair);
  EXPECT_EQ(loaded.broker.fees.commission_bps, defaults.broker.fees.commission_bps);
  EXPECT_EQ(loaded.market.spread_std, defaults.market.spread_std);
  EXPECT_EQ(loaded.market.max_half_life_s, defaults.market.max_half_life_s);
  EXPECT_EQ(loaded.discovery_method, defaults.discovery_method);
  EXPECT_EQ(loaded.screen_every, defaults.screen_every);
  EXPECT_EQ(loaded.orchestrator.activate_after, defaults.orchestrator.activate_after);
  EXPECT_EQ(loaded.screener.min_abs_corr, defaults.screener.min_abs_corr);
  EXPECT_EQ(loaded.screener.prescreen_pvalue, defaults.screener.prescreen_pvalue);
  EXPECT_EQ(loaded.screener.min_crossings, defaults.screener.min_crossings);
  EXPECT_EQ(loaded.screener.neighbours, defaults.screener.neighbours);
  EXPECT_EQ(loaded.screener.pair_test, defaults.screener.pair_test);
  EXPECT_EQ(loaded.screener.consistent_triangles, defaults.screener.consistent_triangles);
  EXPECT_EQ(loaded.discovery.correction, defaults.discovery.correction);
  EXPECT_EQ(loaded.discovery.min_half_life, defaults.discovery.min_half_life);
  EXPECT_EQ(loaded.discovery.stability_splits, defaults.discovery.stability_splits);
}

TEST(Config, StrictKeysTypesAndRanges) {
  auto typo = temp_file("typo.toml", "[pair_model]\nentry_zz = 2\n");
  EXPECT_NE(error_of([&] { load_config(typo); }).find("unknown key 'pair_model.entry_zz'"),
            std::string::npos);
  auto type = temp_file("type.toml", "[pair_model]\nwindow = \"long\"\n");
  EXPECT_NE(error_of([&] { load_config(type); }).find("pair_model.window must be an integer"),
            std::string::npos);
  auto section = temp_file("section.toml", "[nonsense]\na = 1\n");
  EXPECT_NE(error_of([&] { load_config(section); }).find("unknown section 'nonsense'"),
            std::string::npos);
  auto syntax = temp_file("syntax.toml", "[bars]\ninterval = \n");
  EXPECT_NE(error_of([&] { load_config(syntax); }).find("syntax.toml:2"), std::string::npos);
  auto order = temp_file("order.toml", "[pair_model]\nentry_z = 5\n");
  EXPECT_NE(error_of([&] { load_config(order); }).find("exit_z < entry_z < stop_z"),
            std::string::npos);
  EXPECT_NE(error_of([] { load_config("/nonexistent.toml"); }).find("/nonexistent.toml"),
            std::string::npos);
}

TEST(Config, OverridesTakeTomlValuesAndBareWords) {
  EngineConfig c;
  apply_overrides(c, {"pair_model.entry_z=2.5", "portfolio.hedge=dollar_neutral",
                      "bars.interval=30s", "discovery.correction=bh"});
  EXPECT_EQ(c.pair_model.entry_z, 2.5);
  EXPECT_EQ(c.sizing.hedge, portfolio::HedgeMode::kDollarNeutral);
  EXPECT_EQ(c.bar_interval, 30 * kNanosPerSecond);
  EXPECT_EQ(c.discovery.correction, screen::Correction::kBenjaminiHochberg);
  EXPECT_THROW(apply_overrides(c, {"entry_z=3"}), UserError);
  EXPECT_THROW(apply_overrides(c, {"portfolio.hedge=sideways"}), UserError);
}

TEST(CsvTicks, BadRowsNameFileAndLine) {
  auto path = temp_file("bad_rows.csv",
                        "ts,symbol,price,size,bid,ask\n"
                        "2024-01-02T14:30:00Z,AAA,10.0,100,9.99,10.01\n"
                        "2024-01-02T14:30:01Z,AAA,abc,100,9.99,10.01\n"
                        "2024-01-02T14:30:02Z,AAA,10.0\n"
                        "yesterday,AAA,10.0,100,9.99,10.01\n"
                        "2024-01-02T14:30:03Z,BBB,20.0,5,,\n");
  SymbolTable symbols;
  CsvTickSource source(path, symbols);
  Tick t;
  std::string error;
  EXPECT_EQ(source.next(t, error), ReadResult::kTick);
  EXPECT_EQ(source.next(t, error), ReadResult::kBadRow);
  EXPECT_EQ(error, path + ":3: price: 'abc' is not a number");
  EXPECT_EQ(source.next(t, error), ReadResult::kBadRow);
  EXPECT_EQ(error, path + ":4: expected 6 fields, got 3");
  EXPECT_EQ(source.next(t, error), ReadResult::kBadRow);
  EXPECT_NE(error.find(":5: bad timestamp 'yesterday'"), std::string::npos);
  EXPECT_EQ(source.next(t, error), ReadResult::kTick);
  EXPECT_FALSE(t.has_quote());  // empty bid/ask: no quote
  EXPECT_EQ(symbols.name(t.symbol), "BBB");
  EXPECT_EQ(source.next(t, error), ReadResult::kEnd);
}

TEST(CsvTicks, MissingColumnIsAStartupError) {
  auto path = temp_file("no_size.csv", "ts,symbol,price\n1,A,1\n");
  SymbolTable symbols;
  EXPECT_EQ(error_of([&] { CsvTickSource(path, symbols); }),
            path + ":1: missing column 'size' (header is 'ts,symbol,price')");
}

TEST(Engine, RejectsBadTicksWithCountedReasons) {
  SymbolTable symbols;
  SymbolId a = symbols.intern("A");
  Engine p(EngineConfig{}, symbols);
  const Timestamp t0 = 1704205800LL * kNanosPerSecond;
  EXPECT_TRUE(p.on_tick(Tick{.ts = t0, .symbol = a, .price = 10, .size = 1}).is_ok());
  EXPECT_FALSE(p.on_tick(Tick{.ts = t0, .symbol = a, .price = kNaN, .size = 1}).is_ok());
  EXPECT_FALSE(p.on_tick(Tick{.ts = t0, .symbol = a, .price = -1, .size = 1}).is_ok());
  EXPECT_FALSE(p.on_tick(Tick{.ts = t0, .symbol = a, .price = 0, .size = 1}).is_ok());
  EXPECT_FALSE(p.on_tick(Tick{.ts = t0, .symbol = a, .price = 10, .size = -5}).is_ok());
  EXPECT_FALSE(
      p.on_tick(Tick{.ts = t0, .symbol = a, .price = 10, .size = 1, .bid = 10.1, .ask = 10})
          .is_ok());
  EXPECT_FALSE(p.on_tick(Tick{.ts = t0, .symbol = a, .price = 10, .size = 1, .bid = 9.9}).is_ok());
  EXPECT_FALSE(p.on_tick(Tick{.ts = t0 - 1, .symbol = a, .price = 10, .size = 1}).is_ok());
  EXPECT_FALSE(p.on_tick(Tick{.ts = t0, .symbol = 7, .price = 10, .size = 1}).is_ok());
  p.count_reject(RejectReason::kMalformed, "f.csv:9: junk");
  p.finish();
  Summary s = p.summary();
  EXPECT_EQ(s.ticks, 1u);
  EXPECT_EQ(s.rejected_ticks, 9u);
  EXPECT_EQ(s.rejects.at("bad_price"), 3u);
  EXPECT_EQ(s.rejects.at("bad_size"), 1u);
  EXPECT_EQ(s.rejects.at("bad_quote"), 2u);
  EXPECT_EQ(s.rejects.at("out_of_order"), 1u);
  EXPECT_EQ(s.rejects.at("unknown_symbol"), 1u);
  EXPECT_EQ(s.first_reject.at("malformed"), "f.csv:9: junk");
  EXPECT_EQ(s.bars, 1u);  // the one good tick made the only bar
}

TEST(Runner, FailsFastByDefaultAndCountsWhenAllowed) {
  auto path = temp_file("mixed.csv",
                        "ts,symbol,price,size\n"
                        "1704205800,A,10,1\n"
                        "1704205801,A,-3,1\n"
                        "1704205802,A,nan,1\n"
                        "1704205799,A,10,1\n"
                        "1704205803,A,11,1\n");
  EngineConfig config;
  SymbolTable s1;
  EXPECT_EQ(
      error_of([&] { run_csv(path, config, s1, nullptr); }),
      path + ":3: price -3 is not a positive number (set input.max_rejects to skip bad rows)");
  config.max_rejects = -1;
  SymbolTable s2;
  Summary summary = run_csv(path, config, s2, nullptr);
  EXPECT_EQ(summary.ticks, 2u);
  EXPECT_EQ(summary.rejected_ticks, 3u);
  // A NaN price is a bad price, not a malformed row; every first reject names file and line.
  EXPECT_EQ(summary.rejects.count("malformed"), 0u);
  EXPECT_EQ(summary.rejects.at("bad_price"), 2u);
  EXPECT_EQ(summary.rejects.at("out_of_order"), 1u);
  EXPECT_EQ(summary.first_reject.at("bad_price"), path + ":3: price -3 is not a positive number");
  EXPECT_EQ(summary.first_reject.at("out_of_order").rfind(path + ":5: timestamp", 0), 0u);
  config.max_rejects = 2;
  SymbolTable s3;
  EXPECT_NE(error_of([&] { run_csv(path, config, s3, nullptr); }).find(":5: timestamp"),
            std::string::npos);
}

TEST(Runner, EveryRejectReasonNamesFileAndLine) {
  auto path = temp_file("quotes.csv",
                        "ts,symbol,price,size,bid,ask\n"
                        "1704205800,A,10,1,9.9,10.1\n"
                        "1704205801,A,10,-1,9.9,10.1\n"
                        "1704205802,A,10,1,10.2,10.1\n"
                        "1704205803,A,10,1,9.9,10.1\n");
  EngineConfig config;
  config.max_rejects = -1;
  SymbolTable symbols;
  Summary summary = run_csv(path, config, symbols, nullptr);
  EXPECT_EQ(summary.ticks, 2u);
  EXPECT_EQ(summary.rejects.at("bad_size"), 1u);
  EXPECT_EQ(summary.rejects.at("bad_quote"), 1u);
  EXPECT_EQ(summary.first_reject.at("bad_size").rfind(path + ":3: ", 0), 0u)
      << summary.first_reject.at("bad_size");
  EXPECT_EQ(summary.first_reject.at("bad_quote").rfind(path + ":4: ", 0), 0u)
      << summary.first_reject.at("bad_quote");
}

// A small market that still has a full warm-up session: the pipeline must find the planted pairs,
// trade them at a profit after costs, and be byte-for-byte reproducible.
EngineConfig small_market(std::uint64_t seed, int planted) {
  EngineConfig c;
  c.market.seed = seed;
  c.market.symbols = 16;
  c.market.sectors = 4;
  c.market.planted_pairs = planted;
  c.market.sessions = 2;
  c.discovery.top_k = 3;
  return c;
}

// Distinct planted pairs among the activated ones (a pair may be activated more than once).
int planted_found(const Summary& s, const std::vector<sim::PlantedPair>& planted) {
  int found = 0;
  for (const auto& p : planted) {
    bool hit = false;
    for (const auto& a : s.pairs)
      hit = hit || (a.y == p.y && a.x == p.x) || (a.y == p.x && a.x == p.y);
    found += hit;
  }
  return found;
}

int distinct_pairs(const Summary& s) {
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& a : s.pairs) pairs.insert(std::minmax(a.y, a.x));
  return static_cast<int>(pairs.size());
}

// Discovery is statistical, so it is judged over several generated markets, not one lucky seed.
class EndToEndMethods : public ::testing::TestWithParam<DiscoveryMethod> {};

TEST_P(EndToEndMethods, FindsPlantedPairsAndTradesThemAtAProfit) {
  int planted_total = 0, found_total = 0, selected_total = 0, profitable = 0;
  const int kSeeds = 8;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    EngineConfig config = small_market(100 + seed, 3);
    config.discovery_method = GetParam();
    sim::MarketGenerator market(config.market);
    const auto planted = market.planted();
    Summary s = run_generated(market, config, nullptr);
    planted_total += static_cast<int>(planted.size());
    found_total += planted_found(s, planted);
    selected_total += distinct_pairs(s);
    profitable += s.net_pnl > 0;
    EXPECT_NEAR(s.gross_pnl - s.fees, s.net_pnl, 1e-6);
    if (!s.pairs.empty()) {
      EXPECT_GT(s.fees, 0);
    }
  }
  EXPECT_GE(found_total, 0.8 * planted_total) << "recall";
  EXPECT_GE(found_total, 0.8 * selected_total) << "precision";
  EXPECT_GE(profitable, kSeeds - 1);
}

INSTANTIATE_TEST_SUITE_P(BothDiscoveryMethods, EndToEndMethods,
                         ::testing::Values(DiscoveryMethod::kWarmup, DiscoveryMethod::kScreener));

TEST(EndToEnd, PairActorThreadsDoNotChangeTheResult) {
  std::string logs[2];
  for (int run = 0; run < 2; ++run) {
    EngineConfig config = small_market(31, 3);
    config.actor_threads = run == 0 ? 1 : 4;
    sim::MarketGenerator market(config.market);
    const std::string dir = ::testing::TempDir() + "/threads_" + std::to_string(run);
    {
      RunLog log(dir, market.symbols());
      run_generated(market, config, &log);
      log.close();
    }
    logs[run] = read_file(dir + "/orders.jsonl") + read_file(dir + "/executions.jsonl") +
                read_file(dir + "/signals.jsonl") + read_file(dir + "/pnl.jsonl");
  }
  EXPECT_FALSE(logs[0].empty());
  EXPECT_EQ(logs[0], logs[1]);
}

TEST(EndToEnd, SameSeedGivesByteIdenticalLogs) {
  EngineConfig config = small_market(21, 3);
  std::string dirs[2] = {::testing::TempDir() + "/run_a", ::testing::TempDir() + "/run_b"};
  Summary summaries[2];
  for (int run = 0; run < 2; ++run) {
    sim::MarketGenerator market(config.market);
    RunLog log(dirs[run], market.symbols());
    summaries[run] = run_generated(market, config, &log);
  }
  EXPECT_GT(summaries[0].trades, 3);
  for (const char* file : {"orders.jsonl", "executions.jsonl", "signals.jsonl", "pnl.jsonl"}) {
    std::string a = read_file(dirs[0] + "/" + file), b = read_file(dirs[1] + "/" + file);
    EXPECT_FALSE(a.empty()) << file;
    EXPECT_EQ(a, b) << file;
  }
  EXPECT_EQ(summaries[0].to_json(), summaries[1].to_json());
}

TEST(EndToEnd, NoPlantedPairsMeansLittleTradingAndLittleLoss) {
  int active = 0;
  for (int seed = 1; seed <= 4; ++seed) {
    EngineConfig config = small_market(200 + seed, 0);
    sim::MarketGenerator market(config.market);
    Summary s = run_generated(market, config, nullptr);
    active += static_cast<int>(s.pairs.size());
    EXPECT_GT(s.net_pnl, -0.01 * s.initial_capital);
  }
  EXPECT_LE(active, 1);
}

}  // namespace
}  // namespace pairflow::engine

namespace pairflow::engine {
namespace {

TEST(Config, PartsAreResolvedFromTheSectionsThatGiveThem) {
  EngineConfig c;
  apply_overrides(c, {"discovery.warmup_bars=200", "discovery.max_pvalue=0.01", "discovery.top_k=7",
                      "pair_model.entry_z=2.5", "pair_model.window=60", "pair_model.hedge=kalman",
                      "pair_model.kalman_delta=0.001", "screener.threads=2"});
  const auto screener = screener_config(c);
  EXPECT_EQ(screener.window, 800);  // the window grows to 4 x warmup_bars by default
  EXPECT_EQ(screener.max_pvalue, 0.01);
  EngineConfig rolling = c;
  apply_overrides(rolling, {"screener.max_window=200"});
  EXPECT_EQ(screener_config(rolling).window, 200);
  // Shorter than the first screen's window: refused.
  EXPECT_THROW(apply_overrides(rolling, {"screener.max_window=150"}), UserError);
  const auto orchestrator = orchestrator_config(c);
  EXPECT_EQ(orchestrator.max_active, 7);
  EXPECT_EQ(orchestrator.entry_z, 2.5);
  const auto actors = actors_config(c);
  EXPECT_EQ(actors.window, 60);
  EXPECT_EQ(actors.hedge, pairs::HedgeMethod::kKalman);
  EXPECT_EQ(actors.kalman.delta, 0.001);
  EXPECT_EQ(actors.threads, 2);
  // validate() changes nothing: it only judges.
  const EngineConfig before = c;
  validate(c);
  EXPECT_EQ(c.screener.window, before.screener.window);
  EngineConfig bad;
  EXPECT_THROW(apply_overrides(bad, {"pair_model.hedge=lasso"}), UserError);
}

// The Kalman hedge ratio, chosen from the config, trades the planted pairs too, in both discovery
// methods, deterministically.
TEST(EndToEnd, KalmanHedgeFromTheConfigTrades) {
  for (DiscoveryMethod method : {DiscoveryMethod::kWarmup, DiscoveryMethod::kScreener}) {
    EngineConfig config = small_market(104, 3);
    config.discovery_method = method;
    config.hedge_method = pairs::HedgeMethod::kKalman;
    std::string json[2];
    for (int run = 0; run < 2; ++run) {
      sim::MarketGenerator market(config.market);
      json[run] = run_generated(market, config, nullptr).to_json();
    }
    EXPECT_EQ(json[0], json[1]);
    EXPECT_NE(json[0].find(R"("trades":)"), std::string::npos);
    sim::MarketGenerator market(config.market);
    const Summary s = run_generated(market, config, nullptr);
    EXPECT_GT(s.trades, 0) << static_cast<int>(method);
  }
}

}  // namespace
}  // namespace pairflow::engine

namespace pairflow::engine {
namespace {

// A run whose risk rules denied orders and whose kill switch fired still writes one JSON object
// (the table's lines belong to to_table alone).
TEST(Summary, JsonStaysJsonWithDenialsAndAKillSwitch) {
  Summary s;
  s.denials["max_order_qty"] = 3;
  s.kill_switch = "halt";
  s.trading_state = "halted";
  s.rejects["nan_price"] = 1;
  s.first_reject["nan_price"] = "line 3";
  const std::string json = s.to_json();
  EXPECT_EQ(json.find('\n'), std::string::npos) << json;
  EXPECT_NE(json.find(R"("denials":{"max_order_qty":3})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("rejects":{"nan_price":{"count":1,"first":"line 3"}})"), std::string::npos)
      << json;
  EXPECT_NE(s.to_table().find("denied 3 x max_order_qty"), std::string::npos);
  s.part = Summary::Part::kDecisions;
  EXPECT_EQ(s.to_json().find("denials"), std::string::npos);
  s.part = Summary::Part::kExecution;
  EXPECT_EQ(s.to_json().find("rejects"), std::string::npos);
}

}  // namespace
}  // namespace pairflow::engine
