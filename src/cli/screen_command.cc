// `pairflow screen --prices wide.csv`: the streaming all-pairs screener run once over a wide price
// file (ts,SYM1,SYM2,...) or a long one (time, symbol, price), printing the pairs that pass,
// ranked (a table, or JSON with --json).
// Runs on the main thread.
#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/csv.h"
#include "base/json_writer.h"
#include "base/table_csv.h"
#include "cli/commands.h"
#include "screen/screener.h"
#include "screen/table_screen.h"

namespace pairflow::cli {
namespace {

struct ScreenArgs {
  std::string prices, price_column;
  bool log = false, json = false;
  int window = 0, top = 0;
  std::string correction = "bh";
  double max_pvalue = 0.05, min_abs_corr = -1;
  int per_symbol = 0, neighbours = -1;
  bool rank_all = false, no_triangles = false;
  std::string pair_test = "both";
  double prescreen_pvalue = -1, max_hurst = -1, min_half_life = -1, max_half_life = -1;
  int min_crossings = -1, stability_splits = -1;
};

void run_screen(const ScreenArgs& a) {
  WideFile file = read_wide_csv(a.prices, a.log, a.price_column);
  if (file.layout != "wide") std::fprintf(stderr, "pairflow screen: %s\n", file.layout.c_str());
  screen::ScreenerConfig config;
  config.window = a.window;
  auto correction = screen::parse_correction(a.correction);
  if (!correction) throw UserError(fmt::format("--correction: {}", correction.status().message()));
  config.correction = *correction;
  config.max_pvalue = a.max_pvalue;
  if (a.min_abs_corr >= 0) config.min_abs_corr = a.min_abs_corr;
  config.max_pairs_per_symbol = a.per_symbol;
  config.max_candidates = a.top;
  config.rank_all = a.rank_all;
  if (a.neighbours >= 0) config.neighbours = a.neighbours;
  config.consistent_triangles = !a.no_triangles;
  auto pair_test = screen::parse_pair_test(a.pair_test);
  if (!pair_test) throw UserError(fmt::format("--pair-test: {}", pair_test.status().message()));
  config.pair_test = *pair_test;
  if (a.prescreen_pvalue >= 0) config.prescreen_pvalue = a.prescreen_pvalue;
  if (a.max_hurst >= 0) config.max_hurst = a.max_hurst;
  if (a.min_half_life >= 0) config.min_half_life = a.min_half_life;
  if (a.max_half_life >= 0) config.max_half_life = a.max_half_life;
  if (a.min_crossings >= 0) config.min_crossings = a.min_crossings;
  if (a.stability_splits >= 0) config.stability_splits = a.stability_splits;
  // The file's rows, row-major, viewed in place by the one-shot screen.
  const int cols = static_cast<int>(file.symbols.size());
  std::vector<double> flat;
  flat.reserve(file.rows.size() * file.symbols.size());
  for (const auto& row : file.rows) flat.insert(flat.end(), row.begin(), row.end());
  const screen::PriceTable table{flat.data(), static_cast<int>(file.rows.size()), cols, cols, 1};
  auto screened = screen::screen_table(table, file.symbols, config, a.prices);
  if (!screened) throw UserError(screened.status().message());
  const auto& result = screened->result;
  const auto& names = file.symbols;
  const auto& left_out = screened->untestable;
  if (!left_out.empty()) {
    std::string list;
    for (const auto& item : left_out) list += (list.empty() ? "" : ", ") + item;
    std::fprintf(stderr,
                 "pairflow screen: %zu of %zu columns cannot be tested and are left out: %s\n",
                 left_out.size(), names.size(), list.c_str());
  }
  const std::string summary = screen::describe_screen(*screened);
  // --top caps the selection; with --rank-all it also caps the ranking printed.
  const auto& rows = a.rank_all ? result.ranked : result.candidates;
  const std::span<const screen::ScreenCandidate> listed(
      rows.data(), a.top > 0 ? std::min<std::size_t>(rows.size(), a.top) : rows.size());
  if (a.json) {
    std::string out;
    JsonWriter w(out);
    w.begin_array();
    for (const auto& c : listed) {
      w.begin_object().field("y", names[c.y]).field("x", names[c.x]).field("corr", c.corr);
      w.field("stat", c.stat).field("pvalue", c.pvalue).field("hedge_ratio", c.hedge_ratio);
      w.field("half_life", c.half_life).field("hurst", c.hurst).field("crossings", c.crossings);
      w.field("score", c.score).field("adj_pvalue", c.adj_pvalue);
      w.field("pvalue_reverse", c.pvalue_reverse).field("pair_pvalue", c.pair_pvalue);
      w.field("df_stat", c.df_stat);
      w.field("leg_stat", c.leg_stat).field("stability_pvalue", c.stability_pvalue);
      w.field("stage", screen::stage_name(c.stage));
      w.field("selected", c.stage == screen::ScreenStage::kSelected).end_object();
    }
    w.end_array();
    std::printf("%s\n", out.c_str());
    std::fprintf(stderr, "%s\n", summary.c_str());
    return;
  }
  // p: the better direction's Engle-Granger p-value; pair_p: the pair's (--pair-test); adj_p:
  // after the correction; score: the ranking score (-EG statistic).
  std::printf("%-4s %-10s %-10s %7s %8s %10s %10s %10s %8s %8s %8s %6s %5s %s\n", "rank", "y", "x",
              "corr", "stat", "p", "pair_p", "adj_p", "score", "hedge", "halflife", "hurst",
              "cross", a.rank_all ? "stage" : "");
  for (std::size_t k = 0; k < listed.size(); ++k) {
    const auto& c = listed[k];
    std::printf(
        "%-4zu %-10s %-10s %7.3f %8.3f %10.3g %10.3g %10.3g %8.3f %8.4f %8.2f %6.3f %5d %s\n",
        k + 1, names[c.y].c_str(), names[c.x].c_str(), c.corr, c.stat, c.pvalue, c.pair_pvalue,
        c.adj_pvalue, c.score, c.hedge_ratio, c.half_life, c.hurst, c.crossings,
        a.rank_all ? screen::stage_name(c.stage) : "");
  }
  std::printf("%s\n", summary.c_str());
}

}  // namespace

void register_screen(CLI::App& app) {
  auto* cmd = app.add_subcommand("screen", "all-pairs screen of a wide price file (ts,SYM1,...)");
  auto a = std::make_shared<ScreenArgs>();
  cmd->add_option("--prices", a->prices,
                  "CSV of prices: wide (ts,SYM1,SYM2,... one row per bar) or long (a time, a "
                  "symbol and a price column, one row per symbol and bar)")
      ->required();
  cmd->add_option("--price-column", a->price_column,
                  "long file: the column of prices (default: adj_close, close, price, last or "
                  "value, whichever the header has)");
  cmd->add_flag("--log", a->log, "take natural logs of the prices first");
  cmd->add_option("--window", a->window, "bars of log returns in the window (default: all rows)")
      ->check(CLI::Range(20, 10000000));
  cmd->add_option("--top", a->top,
                  "select and print at most K pairs (default: all that pass); with --rank-all, "
                  "print the first K rows of the ranking")
      ->check(CLI::Range(0, 100000000));
  cmd->add_flag("--json", a->json, "JSON array instead of a table");
  cmd->add_option("--correction", a->correction,
                  "bh (false-discovery rate), bonferroni or none (default bh)");
  cmd->add_option("--max-pvalue", a->max_pvalue,
                  "adjusted p-value cut: the false-discovery level with bh (default 0.05)")
      ->check(CLI::Range(1e-300, 1.0));
  cmd->add_option("--neighbours", a->neighbours,
                  "test each symbol with its N most correlated symbols (default 3; 0 = every pair)")
      ->check(CLI::Range(0, 1000000));
  cmd->add_flag("--no-triangles", a->no_triangles,
                "keep a pair that shares a leg with a better one without testing its third side");
  cmd->add_option("--pair-test", a->pair_test,
                  "both: both regressions must reject (default); either: the better one, x2");
  cmd->add_option("--min-corr", a->min_abs_corr, "|correlation| of returns to test (default 0)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--per-symbol", a->per_symbol,
                  "pairs per symbol, best first (default 0 = no limit)")
      ->check(CLI::Range(0, 1000000));
  cmd->add_flag("--rank-all", a->rank_all,
                "list every pair, best first, with the stage that stopped it and a selected flag");
  cmd->add_option("--prescreen-pvalue", a->prescreen_pvalue,
                  "lag-0 Dickey-Fuller p-value to reach Engle-Granger (1 = test every pair)")
      ->check(CLI::Range(1e-300, 1.0));
  cmd->add_option("--max-hurst", a->max_hurst, "Hurst exponent of the spread")
      ->check(CLI::Range(1e-9, 100.0));
  cmd->add_option("--min-half-life", a->min_half_life, "bars")->check(CLI::Range(0.0, 1e12));
  cmd->add_option("--max-half-life", a->max_half_life, "bars (0 = a quarter of the window)")
      ->check(CLI::Range(0.0, 1e12));
  cmd->add_option("--min-crossings", a->min_crossings, "mean crossings of the spread")
      ->check(CLI::Range(0, 100000000));
  cmd->add_option("--stability-splits", a->stability_splits,
                  "sub-windows the pair must also be significant in (0 or 1 = none)")
      ->check(CLI::Range(0, 1000));
  cmd->callback([a] { run_screen(*a); });
}

}  // namespace pairflow::cli
