// `pairflow report --run DIR --out report.html`: the report of a recorded run (the directory
// `--log-dir` writes) as one self-contained HTML file; `--json` prints the metrics. Main thread.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "base/buffered_file.h"
#include "cli/commands.h"
#include "report/report.h"

namespace pairflow::cli {

void write_report(const std::string& run_dir, const std::string& out, double risk_free,
                  const std::string& title, bool print_json) {
  report::ReportOptions options;
  options.risk_free = risk_free;
  options.title = title;
  report::RunData run = report::read_run(run_dir);
  const auto trips = report::round_trips(run);
  const report::Metrics metrics = report::compute_metrics(run, trips, options);
  if (!out.empty()) write_text_file(out, report::render_html(run, trips, metrics, options));
  if (print_json) std::printf("%s\n", report::metrics_json(metrics).c_str());
}

void register_report(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "report", "one self-contained HTML report of a recorded run (the --log-dir of a backtest)");
  struct Args {
    std::string run, out, title = "pairflow run";
    double risk_free = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--run", a->run, "run directory: pnl.jsonl, executions.jsonl, summary.json")
      ->required();
  cmd->add_option("--out", a->out, "write the HTML report here");
  cmd->add_option("--risk-free", a->risk_free, "annual risk-free rate for Sharpe and Sortino")
      ->check(CLI::Range(-0.5, 1.0));
  cmd->add_option("--title", a->title, "the report's title");
  cmd->add_flag("--json", a->json, "print the metrics as JSON");
  cmd->callback([a] {
    if (a->out.empty() && !a->json) throw UserError("report: give --out FILE, --json or both");
    write_report(a->run, a->out, a->risk_free, a->title, a->json);
  });
}

}  // namespace pairflow::cli
