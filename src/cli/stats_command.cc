// `pairflow stats`: statistics on CSV columns, JSON on stdout. Defaults are statsmodels' defaults.
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <span>

#include "base/csv.h"
#include "base/json_writer.h"
#include "base/table_csv.h"
#include "cli/commands.h"
#include "model/messages.h"
#include "stats/adf.h"
#include "stats/coint.h"
#include "stats/hurst.h"
#include "stats/johansen.h"
#include "stats/stats_json.h"

namespace pairflow::cli {
namespace {

template <typename T>
const T& or_fail(const Result<T>& r, const std::string& context) {
  if (!r) throw UserError(fmt::format("{}: {}", context, r.status().message()));
  return *r;
}

struct Common {
  std::string csv;
  bool log = false;
  std::string trend, autolag = "aic";
  int maxlag = -1;
};

void add_common(CLI::App* cmd, Common& c, const std::string& default_trend) {
  c.trend = default_trend;
  cmd->add_option("--csv", c.csv, "CSV file with a header row")->required();
  cmd->add_flag("--log", c.log, "take natural logs of the columns first");
}

void add_lag_options(CLI::App* cmd, Common& c) {
  cmd->add_option("--trend", c.trend, "deterministic terms: n, c, ct, ctt");
  cmd->add_option("--maxlag", c.maxlag, "maximum augmentation lag (default: 12*(nobs/100)^(1/4))")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--autolag", c.autolag, "aic, bic, t-stat or none");
}

stats::AdfOptions adf_options(const Common& c) {
  stats::AdfOptions o;
  o.trend = or_fail(stats::parse_trend(c.trend), "--trend");
  o.autolag = or_fail(stats::parse_autolag(c.autolag), "--autolag");
  if (c.maxlag >= 0) o.maxlag = c.maxlag;
  return o;
}

}  // namespace

void register_stats(CLI::App& app) {
  auto* stats_cmd =
      app.add_subcommand("stats", "statistics on CSV columns (JSON out; statsmodels' definitions)");
  stats_cmd->require_subcommand(1);

  {
    auto* cmd =
        stats_cmd->add_subcommand("adf", "augmented Dickey-Fuller test (statsmodels adfuller)");
    auto c = std::make_shared<Common>();
    auto col = std::make_shared<std::string>();
    add_common(cmd, *c, "c");
    add_lag_options(cmd, *c);
    cmd->add_option("--col", *col, "column to test")->required();
    cmd->callback([c, col] {
      ColumnFile file(c->csv, {*col}, c->log);
      auto r = or_fail(stats::adf(file.column(0), adf_options(*c)),
                       fmt::format("{}: adf on '{}'", c->csv, *col));
      std::printf("%s\n", stats::to_json(r).c_str());
    });
  }
  {
    auto* cmd =
        stats_cmd->add_subcommand("coint", "Engle-Granger cointegration test (statsmodels coint)");
    auto c = std::make_shared<Common>();
    auto y = std::make_shared<std::string>();
    auto x = std::make_shared<std::string>();
    auto all_pairs = std::make_shared<bool>(false);
    auto cols = std::make_shared<std::vector<std::string>>();
    add_common(cmd, *c, "c");
    add_lag_options(cmd, *c);
    cmd->add_option("--y", *y, "dependent column");
    cmd->add_option("--x", *x, "regressor column");
    cmd->add_flag("--all-pairs", *all_pairs, "test every pair of columns (y = earlier, x = later)");
    cmd->add_option("--cols", *cols, "columns for --all-pairs (default: all but a leading ts)")
        ->delimiter(',');
    cmd->callback([c, y, x, all_pairs, cols] {
      stats::AdfOptions a = adf_options(*c);
      stats::CointOptions o{.trend = a.trend, .maxlag = a.maxlag, .autolag = a.autolag};
      if (!*all_pairs) {
        if (y->empty() || x->empty())
          throw UserError("stats coint: give --y and --x, or --all-pairs");
        ColumnFile file(c->csv, {*y, *x}, c->log);
        stats::CointWorkspace ws;
        auto r = or_fail(ws.run(file.column(0), file.column(1), o),
                         fmt::format("{}: coint of '{}' on '{}'", c->csv, *y, *x));
        auto hl = stats::half_life(ws.residuals());
        std::printf("%s\n", stats::to_json(r, hl ? *hl : kNaN).c_str());
        return;
      }
      ColumnFile file(c->csv, *cols, c->log);
      if (file.names().size() < 2)
        throw UserError("stats coint --all-pairs: need at least 2 columns");
      stats::CointWorkspace ws;
      std::string line;
      for (std::size_t i = 0; i < file.names().size(); ++i) {
        for (std::size_t j = i + 1; j < file.names().size(); ++j) {
          auto r = ws.run(file.column(i), file.column(j), o);
          line.clear();
          JsonWriter w(line);
          w.begin_object().field("y", file.names()[i]).field("x", file.names()[j]);
          if (!r) {
            // One bad pair does not stop the screen: it is reported on its own line.
            w.field("error", r.status().message()).end_object();
          } else {
            auto hl = stats::half_life(ws.residuals());
            const std::string body = stats::to_json(*r, hl ? *hl : kNaN);
            line += ",";  // the open object continues with the result's fields
            line += std::string_view(body).substr(1);
          }
          std::printf("%s\n", line.c_str());
        }
      }
    });
  }
  {
    auto* cmd = stats_cmd->add_subcommand(
        "johansen", "Johansen cointegration rank test (statsmodels coint_johansen)");
    auto c = std::make_shared<Common>();
    auto cols = std::make_shared<std::vector<std::string>>();
    auto det_order = std::make_shared<int>(0);
    auto k_ar_diff = std::make_shared<int>(1);
    add_common(cmd, *c, "c");
    cmd->add_option("--cols", *cols, "two or more columns, comma-separated")
        ->delimiter(',')
        ->required();
    cmd->add_option("--det-order", *det_order, "-1 none, 0 constant, 1 linear trend")
        ->check(CLI::IsMember({-1, 0, 1}));
    cmd->add_option("--k-ar-diff", *k_ar_diff, "lagged differences in the VECM")
        ->check(CLI::Range(0, 10000));
    cmd->callback([c, cols, det_order, k_ar_diff] {
      if (cols->size() < 2) throw UserError("stats johansen: --cols needs at least 2 columns");
      ColumnFile file(c->csv, *cols, c->log);
      std::vector<std::span<const double>> series;
      for (std::size_t i = 0; i < cols->size(); ++i) series.emplace_back(file.column(i));
      auto r =
          or_fail(stats::coint_johansen(series, *det_order, *k_ar_diff), c->csv + ": johansen");
      std::printf("%s\n", stats::to_json(r).c_str());
    });
  }
  {
    auto* cmd =
        stats_cmd->add_subcommand("hurst", "Hurst exponent of a level series (price or spread)");
    auto c = std::make_shared<Common>();
    auto col = std::make_shared<std::string>();
    auto method = std::make_shared<std::string>("variance");
    auto min_scale = std::make_shared<int>(0);
    auto max_scale = std::make_shared<int>(0);
    add_common(cmd, *c, "c");
    cmd->add_option("--col", *col, "level column")->required();
    cmd->add_option("--method", *method, "variance, rs or dfa")
        ->check(CLI::IsMember({"variance", "rs", "dfa"}));
    cmd->add_option("--min-scale", *min_scale, "smallest lag / window (0 = the method's default)")
        ->check(CLI::Range(0, 100000000));
    cmd->add_option("--max-scale", *max_scale, "largest lag / window (0 = the method's default)")
        ->check(CLI::Range(0, 100000000));
    cmd->callback([c, col, method, min_scale, max_scale] {
      ColumnFile file(c->csv, {*col}, c->log);
      stats::HurstOptions o;
      o.method = *method == "rs"    ? stats::HurstMethod::kRescaledRange
                 : *method == "dfa" ? stats::HurstMethod::kDfa
                                    : stats::HurstMethod::kVariance;
      o.min_scale = *min_scale;
      o.max_scale = *max_scale;
      auto r =
          or_fail(stats::hurst(file.column(0), o), fmt::format("{}: hurst of '{}'", c->csv, *col));
      std::printf("%s\n", stats::to_json(r).c_str());
    });
  }
  {
    auto* cmd =
        stats_cmd->add_subcommand("halflife", "half-life of mean reversion of a spread column");
    auto c = std::make_shared<Common>();
    auto col = std::make_shared<std::string>();
    add_common(cmd, *c, "c");
    cmd->add_option("--col", *col, "spread column")->required();
    cmd->callback([c, col] {
      ColumnFile file(c->csv, {*col}, c->log);
      double hl = or_fail(stats::half_life(file.column(0)),
                          fmt::format("{}: half-life of '{}'", c->csv, *col));
      std::printf("{\"half_life\":%s}\n", json_number(hl).c_str());
    });
  }
}

}  // namespace pairflow::cli
