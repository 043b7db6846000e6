// `pairflow gen`: a generated market to files (sim/market_writer.h).
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "base/buffered_file.h"
#include "cli/commands.h"
#include "cli/common_options.h"
#include "sim/market_writer.h"

namespace pairflow::cli {

void register_gen(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "gen", "write a synthetic market: ticks CSV or wide bar CSV, plus ground truth");
  struct GenOptions {
    CommonOptions common;
    std::string out, truth, format = "ticks", interval = "1m";
    std::uint64_t seed = 0;
    int symbols = 0, pairs = 0, sessions = 0, sectors = 0;
  };
  auto o = std::make_shared<GenOptions>();
  cmd->add_option("--out", o->out, "output CSV")->required();
  cmd->add_option("--truth", o->truth,
                  "ground-truth JSON of the planted pairs (default: OUT.truth.json)");
  cmd->add_option("--format", o->format,
                  "ticks (ts,symbol,price,size,bid,ask) or bars (ts,SYM1,SYM2,...)")
      ->check(CLI::IsMember({"ticks", "bars"}));
  cmd->add_option("--interval", o->interval, "bar interval for --format bars");
  auto* seed = cmd->add_option("--seed", o->seed, "seed");
  auto* symbols =
      cmd->add_option("--symbols", o->symbols, "number of symbols")->check(CLI::Range(2, 100000));
  auto* pairs = cmd->add_option("--pairs", o->pairs, "number of planted cointegrated pairs")
                    ->check(CLI::Range(0, 50000));
  auto* sessions = cmd->add_option("--sessions", o->sessions, "number of 6.5-hour sessions")
                       ->check(CLI::Range(1, 10000));
  auto* sectors =
      cmd->add_option("--sectors", o->sectors, "number of sectors")->check(CLI::Range(1, 100000));
  cmd->add_option("--config", o->common.config_path,
                  "TOML whose [market] section sets the defaults");
  cmd->add_option("--set", o->common.overrides, "override a setting: market.key=value");
  cmd->callback([o, seed, symbols, pairs, sessions, sectors] {
    engine::EngineConfig config = make_config(o->common);
    sim::MarketSpec& spec = config.market;
    if (seed->count()) spec.seed = o->seed;
    if (symbols->count()) spec.symbols = o->symbols;
    if (pairs->count()) spec.planted_pairs = o->pairs;
    if (sessions->count()) spec.sessions = o->sessions;
    if (sectors->count()) spec.sectors = o->sectors;
    sim::MarketGenerator gen(spec);
    std::size_t rows = 0;
    if (o->format == "ticks") {
      rows = sim::write_ticks_csv(gen, o->out);
    } else {
      auto interval = parse_duration(o->interval);
      if (!interval) throw UserError(fmt::format("--interval: {}", interval.status().message()));
      rows = sim::write_bars_csv(gen, *interval, o->out);
    }
    const std::string truth_path = o->truth.empty() ? o->out + ".truth.json" : o->truth;
    write_text_file(truth_path, sim::truth_json(gen));
    std::printf("gen: wrote %zu rows to %s, ground truth to %s\n", rows, o->out.c_str(),
                truth_path.c_str());
  });
}

}  // namespace pairflow::cli
