// The options demo, backtest and gen share (--config, --set, --summary, --log-dir) and the
// summary report they print. Main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/summary.h"

namespace pairflow::cli {

struct CommonOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  std::string summary_path;
  std::string log_dir;
};

void add_common(CLI::App* cmd, CommonOptions& o);
// The config file (or the defaults) with the --set overrides applied.
engine::EngineConfig make_config(const CommonOptions& o);
// Prints the summary table; writes the summary JSON with --summary.
void report(const engine::Summary& summary, const CommonOptions& o);

}  // namespace pairflow::cli
