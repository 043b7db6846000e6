// demo, backtest and gen: the pipeline commands.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>

#include "cli/commands.h"
#include "model/json.h"
#include "runtime/runner.h"

namespace pairflow::cli {
namespace {

struct CommonOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  std::string summary_path;
  std::string log_dir;
};

void add_common(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--config", o.config_path, "pipeline TOML (defaults: examples/demo.toml)");
  cmd->add_option("--set", o.overrides, "override a setting: section.key=value (repeatable)");
  cmd->add_option("--summary", o.summary_path, "write the summary JSON here");
  cmd->add_option("--log-dir", o.log_dir,
                  "write signals/orders/executions/pnl as JSON lines into this directory");
}

runtime::PipelineConfig make_config(const CommonOptions& o) {
  runtime::PipelineConfig config =
      o.config_path.empty() ? runtime::PipelineConfig{} : runtime::load_config(o.config_path);
  runtime::apply_overrides(config, o.overrides);
  return config;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  if (!out) throw UserError(fmt::format("{}: cannot write", path));
  out << text << '\n';
  out.close();
  if (!out) throw UserError(fmt::format("{}: write failed", path));
}

void report(const runtime::Summary& summary, const CommonOptions& o) {
  std::fputs(summary.to_table().c_str(), stdout);
  if (!o.summary_path.empty()) write_file(o.summary_path, summary.to_json());
}

std::string truth_json(const sim::MarketGenerator& gen) {
  std::string out = fmt::format(R"({{"seed":{},"symbols":{},"sectors":{},"planted":[)",
                                gen.spec().seed, gen.spec().symbols, gen.spec().sectors);
  for (std::size_t i = 0; i < gen.planted().size(); ++i) {
    const auto& p = gen.planted()[i];
    out += fmt::format(
        R"({}{{"y":{},"x":{},"hedge_ratio":{},"intercept":{},"half_life_s":{},"spread_std":{}}})",
        i ? "," : "", json_string(p.y), json_string(p.x), json_number(p.hedge_ratio),
        json_number(p.intercept), json_number(p.half_life_s), json_number(p.spread_std));
  }
  return out + "]}";
}

}  // namespace

void register_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "generate a market and run the whole pipeline on it");
  auto o = std::make_shared<CommonOptions>();
  auto seed = std::make_shared<std::uint64_t>(0);
  auto no_ui = std::make_shared<bool>(false);
  add_common(cmd, *o);
  CLI::Option* seed_option = cmd->add_option("--seed", *seed, "market seed (default: market.seed)");
  cmd->add_flag("--no-ui", *no_ui, "do not start the dashboard (the dashboard is not built yet)");
  cmd->callback([o, seed, no_ui, seed_option] {
    runtime::PipelineConfig config = make_config(*o);
    if (seed_option->count() > 0) config.market.seed = *seed;
    sim::MarketGenerator market(config.market);
    std::printf("demo: %d symbols in %d sectors, %d planted pairs, %d sessions (seed %llu)\n",
                config.market.symbols, config.market.sectors, config.market.planted_pairs,
                config.market.sessions, static_cast<unsigned long long>(config.market.seed));
    for (const auto& p : market.planted()) {
      std::printf("  planted %s ~ %s  hedge %.3f  half-life %.0fs\n", p.y.c_str(), p.x.c_str(),
                  p.hedge_ratio, p.half_life_s);
    }
    std::unique_ptr<runtime::RunLog> log;
    if (!o->log_dir.empty()) log = std::make_unique<runtime::RunLog>(o->log_dir, market.symbols());
    runtime::Summary summary = runtime::run_generated(market, config, log.get());
    if (log) log->close();
    report(summary, *o);
  });
}

void register_backtest(CLI::App& app) {
  auto* cmd = app.add_subcommand("backtest", "replay a ticks CSV through the pipeline");
  auto o = std::make_shared<CommonOptions>();
  auto ticks = std::make_shared<std::string>();
  auto max_rejects = std::make_shared<std::int64_t>(0);
  auto speed = std::make_shared<double>(0);
  add_common(cmd, *o);
  cmd->add_option("--ticks", *ticks, "ticks CSV: ts,symbol,price,size[,bid,ask]")->required();
  CLI::Option* max_rejects_option =
      cmd->add_option("--max-rejects", *max_rejects,
                      "bad rows tolerated before failing (default input.max_rejects = 0; -1 = any)")
          ->check(CLI::Range(std::int64_t{-1}, std::numeric_limits<std::int64_t>::max()));
  CLI::Option* speed_option =
      cmd->add_option("--speed", *speed,
                      "pace replay at this multiple of event time (0 = flat out)")
          ->check(CLI::NonNegativeNumber);
  cmd->callback([o, ticks, max_rejects, speed, max_rejects_option, speed_option] {
    runtime::PipelineConfig config = make_config(*o);
    if (max_rejects_option->count() > 0) config.max_rejects = *max_rejects;
    if (speed_option->count() > 0) config.speed = *speed;
    runtime::validate(config);
    SymbolTable symbols;
    std::unique_ptr<runtime::RunLog> log;
    if (!o->log_dir.empty()) log = std::make_unique<runtime::RunLog>(o->log_dir, symbols);
    runtime::Summary summary = runtime::run_csv(*ticks, config, symbols, log.get());
    if (log) log->close();
    report(summary, *o);
  });
}

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
    runtime::PipelineConfig config = make_config(o->common);
    sim::MarketSpec& spec = config.market;
    if (seed->count()) spec.seed = o->seed;
    if (symbols->count()) spec.symbols = o->symbols;
    if (pairs->count()) spec.planted_pairs = o->pairs;
    if (sessions->count()) spec.sessions = o->sessions;
    if (sectors->count()) spec.sectors = o->sectors;
    sim::MarketGenerator gen(spec);
    std::FILE* out = std::fopen(o->out.c_str(), "w");
    if (!out) throw UserError(fmt::format("{}: cannot write", o->out));
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(out, std::fclose);
    std::size_t rows = 0;
    fmt::memory_buffer buffer;
    auto flush = [&](bool force) {
      if (force || buffer.size() > (1 << 20)) {
        if (std::fwrite(buffer.data(), 1, buffer.size(), out) != buffer.size())
          throw UserError(fmt::format("{}: write failed", o->out));
        buffer.clear();
      }
    };
    if (o->format == "ticks") {
      fmt::format_to(std::back_inserter(buffer), "ts,symbol,price,size,bid,ask\n");
      Tick t;
      while (gen.next(t)) {
        fmt::format_to(std::back_inserter(buffer), "{},{},{:.2f},{},{:.2f},{:.2f}\n",
                       format_timestamp(t.ts), gen.symbols().name(t.symbol), t.price, t.size, t.bid,
                       t.ask);
        ++rows;
        flush(false);
      }
    } else {
      auto interval = parse_duration(o->interval);
      if (!interval) throw UserError(fmt::format("--interval: {}", interval.status().message()));
      const std::int64_t step = *interval / kNanosPerSecond;
      const std::int64_t per_session = spec.session_length / kNanosPerSecond;
      if (step < 1 || *interval % kNanosPerSecond != 0 || step > per_session)
        throw UserError("--interval must be whole seconds and no longer than a session");
      fmt::format_to(std::back_inserter(buffer), "ts");
      for (const auto& name : gen.symbols().names())
        fmt::format_to(std::back_inserter(buffer), ",{}", name);
      fmt::format_to(std::back_inserter(buffer), "\n");
      for (std::int64_t session = 0; session < spec.sessions; ++session) {
        for (std::int64_t start = 0; start + step <= per_session; start += step) {
          const std::int64_t second = session * per_session + start;
          gen.advance_to_second(second + step - 1);
          fmt::format_to(std::back_inserter(buffer), "{}",
                         format_timestamp(gen.time_of_second(second)));
          for (double lm : gen.log_mids())
            fmt::format_to(std::back_inserter(buffer), ",{:.4f}", std::exp(lm));
          fmt::format_to(std::back_inserter(buffer), "\n");
          ++rows;
          flush(false);
        }
      }
    }
    flush(true);
    if (std::fclose(closer.release()) != 0)
      throw UserError(fmt::format("{}: write failed", o->out));
    std::string truth_path = o->truth.empty() ? o->out + ".truth.json" : o->truth;
    write_file(truth_path, truth_json(gen));
    std::printf("gen: wrote %zu rows to %s, ground truth to %s\n", rows, o->out.c_str(),
                truth_path.c_str());
  });
}

}  // namespace pairflow::cli
