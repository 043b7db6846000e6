// `pairflow backtest`: a ticks CSV through the engine.
#include <fmt/format.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>

#include "base/buffered_file.h"
#include "cli/commands.h"
#include "cli/common_options.h"
#include "cli/dashboard_options.h"
#include "cli/history_recorder.h"
#include "engine/run_drivers.h"

namespace pairflow::cli {

void register_backtest(CLI::App& app) {
  auto* cmd = app.add_subcommand("backtest", "replay a ticks CSV through the pipeline");
  auto o = std::make_shared<CommonOptions>();
  auto ticks = std::make_shared<std::string>();
  auto max_rejects = std::make_shared<std::int64_t>(0);
  auto speed = std::make_shared<double>(0);
  auto report_path = std::make_shared<std::string>();
  auto ui = std::make_shared<DashboardOptions>();
  auto history_out = std::make_shared<std::string>();
  auto from_history = std::make_shared<std::string>();
  add_common(cmd, *o);
  add_dashboard(cmd, *ui, false);
  cmd->add_option("--report", *report_path,
                  "write the HTML report of the run here (as pairflow report does)");
  auto* ticks_option =
      cmd->add_option("--ticks", *ticks, "ticks CSV: ts,symbol,price,size[,bid,ask]");
  auto* replay_option = cmd->add_option(
      "--from-history", *from_history,
      "replay the ticks recorded in this history file (demo/backtest --history) instead");
  ticks_option->excludes(replay_option);
  cmd->add_option("--history", *history_out,
                  "record ticks, bars, signals, orders, executions, positions and P&L into this "
                  "history file");
  CLI::Option* max_rejects_option =
      cmd->add_option("--max-rejects", *max_rejects,
                      "bad rows tolerated before failing (default input.max_rejects = 0; -1 = any)")
          ->check(CLI::Range(std::int64_t{-1}, std::numeric_limits<std::int64_t>::max()));
  CLI::Option* speed_option =
      cmd->add_option("--speed", *speed,
                      "pace replay at this multiple of event time (0 = flat out)")
          ->check(CLI::NonNegativeNumber);
  cmd->callback([o, ticks, max_rejects, speed, max_rejects_option, speed_option, report_path, ui,
                 history_out, from_history] {
    if (ticks->empty() && from_history->empty())
      throw UserError("backtest: give --ticks FILE or --from-history FILE");
    if (!history_out->empty() && *history_out == *from_history)
      throw UserError("backtest: --history and --from-history name the same file");
    const std::string input = ticks->empty() ? *from_history : *ticks;
    engine::EngineConfig config = make_config(*o);
    if (max_rejects_option->count() > 0) config.max_rejects = *max_rejects;
    if (speed_option->count() > 0) config.speed = *speed;
    engine::validate(config);
    SymbolTable symbols;
    // The report reads a run directory: the --log-dir, or a temporary one removed afterwards.
    std::string log_dir = o->log_dir;
    std::unique_ptr<std::string, void (*)(std::string*)> scratch(nullptr, [](std::string* dir) {
      std::error_code ignored;
      std::filesystem::remove_all(*dir, ignored);
      delete dir;
    });
    if (!report_path->empty() && log_dir.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "pairflow-run-XXXXXX").string();
      if (!mkdtemp(tmpl.data()))
        throw UserError("backtest --report: cannot create a temporary directory");
      scratch.reset(new std::string(tmpl));
      log_dir = tmpl;
    }
    std::unique_ptr<engine::RunLog> log;
    if (!log_dir.empty()) log = std::make_unique<engine::RunLog>(log_dir, symbols);
    std::unique_ptr<HistoryRecorder> recorder;
    if (!history_out->empty())
      recorder =
          std::make_unique<HistoryRecorder>(*history_out, symbols, config.bar_interval, log.get());
    engine::EngineObserver* observer =
        recorder ? static_cast<engine::EngineObserver*>(recorder.get()) : log.get();
    std::unique_ptr<DashboardRun> dashboard;
    if (dashboard_enabled(*ui, false)) {
      dashboard = std::make_unique<DashboardRun>(*ui, config, symbols, "backtest " + input, log_dir,
                                                 observer);
      install_stop_signals();
      dashboard->begin();
    }
    if (dashboard) observer = dashboard->observer();
    engine::Summary summary = ticks->empty() ? run_history(*from_history, config, symbols, observer)
                                             : engine::run_csv(*ticks, config, symbols, observer);
    if (dashboard) dashboard->end(summary.ticks);
    if (recorder) recorder->close();
    if (log) log->close();
    report(summary, *o);
    if (scratch)  // report() wrote it into --log-dir; the temporary directory needs it too
      write_text_file((std::filesystem::path(log_dir) / "summary.json").string(),
                      summary.to_json());
    if (!report_path->empty())
      write_report(log_dir, *report_path, 0.0, "pairflow backtest " + input, false);
    if (dashboard) dashboard->linger();
  });
}

}  // namespace pairflow::cli
