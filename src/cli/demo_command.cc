// `pairflow demo`: a generated market through the whole engine.
#include <fmt/format.h>

#include <cstdio>
#include <limits>
#include <memory>

#include "cli/commands.h"
#include "cli/common_options.h"
#include "cli/dashboard_options.h"
#include "cli/history_recorder.h"
#include "engine/run_drivers.h"

namespace pairflow::cli {

void register_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "generate a market and run the whole pipeline on it");
  auto o = std::make_shared<CommonOptions>();
  auto seed = std::make_shared<std::uint64_t>(0);
  auto ui = std::make_shared<DashboardOptions>();
  auto speed = std::make_shared<double>(0);
  auto history_out = std::make_shared<std::string>();
  add_common(cmd, *o);
  cmd->add_option("--history", *history_out,
                  "record ticks, bars, signals, orders, executions, positions and P&L into this "
                  "history file (replay: backtest --from-history)");
  CLI::Option* seed_option = cmd->add_option("--seed", *seed, "market seed (default: market.seed)");
  CLI::Option* speed_option = cmd->add_option(
      "--speed", *speed,
      "pace: event time runs this many times faster than the wall clock (default: 60 with the "
      "dashboard, flat out with --no-ui; 0 = flat out)");
  add_dashboard(cmd, *ui, true);
  cmd->callback([o, seed, ui, seed_option, speed, speed_option, history_out] {
    engine::EngineConfig config = make_config(*o);
    if (seed_option->count() > 0) config.market.seed = *seed;
    const bool serve = dashboard_enabled(*ui, true);
    if (speed_option->count() > 0) {
      config.speed = *speed;
    } else if (serve && config.speed == 0) {
      config.speed = 60;  // something to watch
    }
    engine::validate(config);
    sim::MarketGenerator market(config.market);
    std::printf("demo: %d symbols in %d sectors, %d planted pairs, %d sessions (seed %llu)\n",
                config.market.symbols, config.market.sectors, config.market.planted_pairs,
                config.market.sessions, static_cast<unsigned long long>(config.market.seed));
    for (const auto& p : market.planted()) {
      std::printf("  planted %s ~ %s  hedge %.3f  half-life %.0fs\n", p.y.c_str(), p.x.c_str(),
                  p.hedge_ratio, p.half_life_s);
    }
    std::unique_ptr<engine::RunLog> log;
    if (!o->log_dir.empty()) log = std::make_unique<engine::RunLog>(o->log_dir, market.symbols());
    std::unique_ptr<HistoryRecorder> recorder;
    if (!history_out->empty())
      recorder = std::make_unique<HistoryRecorder>(*history_out, market.symbols(),
                                                   config.bar_interval, log.get());
    engine::EngineObserver* observer =
        recorder ? static_cast<engine::EngineObserver*>(recorder.get()) : log.get();
    std::unique_ptr<DashboardRun> dashboard;
    if (serve) {
      dashboard = std::make_unique<DashboardRun>(*ui, config, market.symbols(), "demo", o->log_dir,
                                                 observer);
      install_stop_signals();
      dashboard->begin();
    }
    if (dashboard) observer = dashboard->observer();
    engine::Summary summary = engine::run_generated(market, config, observer);
    if (dashboard) dashboard->end(summary.ticks);
    if (recorder) recorder->close();
    if (log) log->close();
    report(summary, *o);
    if (dashboard) dashboard->linger();
  });
}

}  // namespace pairflow::cli
