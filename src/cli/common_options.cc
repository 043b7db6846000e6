#include "cli/common_options.h"

#include <cstdio>

#include "base/buffered_file.h"

namespace pairflow::cli {

void add_common(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--config", o.config_path, "pipeline TOML (defaults: examples/demo.toml)");
  cmd->add_option("--set", o.overrides, "override a setting: section.key=value (repeatable)");
  cmd->add_option("--summary", o.summary_path, "write the summary JSON here");
  cmd->add_option("--log-dir", o.log_dir,
                  "write signals/orders/executions/pnl as JSON lines into this directory");
}

engine::EngineConfig make_config(const CommonOptions& o) {
  engine::EngineConfig config =
      o.config_path.empty() ? engine::EngineConfig{} : engine::load_config(o.config_path);
  engine::apply_overrides(config, o.overrides);
  return config;
}

void report(const engine::Summary& summary, const CommonOptions& o) {
  std::fputs(summary.to_table().c_str(), stdout);
  if (!o.summary_path.empty()) write_text_file(o.summary_path, summary.to_json());
  // The run directory holds the summary too, so `pairflow report --run DIR` has everything.
  if (!o.log_dir.empty()) write_text_file(o.log_dir + "/summary.json", summary.to_json());
}

}  // namespace pairflow::cli
