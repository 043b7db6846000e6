// The `pairflow` subcommands. Each register_* adds one subcommand to the CLI11 app; its callback
// does the work and throws UserError (printed as one line, exit code 2) on bad input.
// Runs on the main thread.
#pragma once

#include <CLI/CLI.hpp>

namespace pairflow::cli {

void register_demo(CLI::App& app);
void register_backtest(CLI::App& app);
void register_gen(CLI::App& app);
void register_stats(CLI::App& app);
void register_job(CLI::App& app);
void register_kafka_mock(CLI::App& app);
void register_run(CLI::App& app);
void register_features(CLI::App& app);
void register_screen(CLI::App& app);
void register_ctl(CLI::App& app);
void register_fix_sim(CLI::App& app);
void register_report(CLI::App& app);
void register_history(CLI::App& app);
void register_probe(CLI::App& app);
// The report of a run directory (report_command.cc), for `pairflow report` and `backtest --report`.
void write_report(const std::string& run_dir, const std::string& out, double risk_free,
                  const std::string& title, bool print_json);

}  // namespace pairflow::cli
