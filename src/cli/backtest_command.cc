// `pairflow backtest`: a ticks CSV through the engine.
#include <fmt/format.h>

#include <cstdio>
#include <limits>
#include <memory>

#include "cli/commands.h"
#include "cli/common_options.h"
#include "engine/run_drivers.h"

namespace pairflow::cli {

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
    engine::EngineConfig config = make_config(*o);
    if (max_rejects_option->count() > 0) config.max_rejects = *max_rejects;
    if (speed_option->count() > 0) config.speed = *speed;
    engine::validate(config);
    SymbolTable symbols;
    std::unique_ptr<engine::RunLog> log;
    if (!o->log_dir.empty()) log = std::make_unique<engine::RunLog>(o->log_dir, symbols);
    engine::Summary summary = engine::run_csv(*ticks, config, symbols, log.get());
    if (log) log->close();
    report(summary, *o);
  });
}

}  // namespace pairflow::cli
