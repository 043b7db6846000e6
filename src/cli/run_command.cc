// `pairflow run PIPELINE.toml`: a pipeline file, every job in process or one job on Kafka.
#include <fmt/format.h>
#include <simdjson.h>
#include <stdlib.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include "app/job_launch.h"
#include "app/load_job.h"
#include "app/pipeline_file.h"
#include "cli/commands.h"
#include "cli/dashboard_options.h"
#include "cli/launch_options.h"
#include "engine/run_drivers.h"
#include "model/json.h"
#include "model/topics.h"
#include "stream/job_runner.h"
#include "stream/kafka_transport.h"

namespace pairflow::cli {

void register_run(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("run", "run a pipeline file: every job in this process, or one on Kafka");
  struct Options {
    app::LaunchOptions launch;
    std::string file, job, out_dir, report, offset_reset = "fail", codec = "json";
    bool exit_at_end = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("pipeline", o->file, "pipeline TOML")->required();
  cmd->add_option("--job", o->job, "run only this job (or 'source') against Kafka");
  cmd->add_option("--brokers", o->launch.brokers, "Kafka bootstrap servers (with --job)");
  cmd->add_option("--group", o->launch.group, "consumer group (default pairflow.JOB)");
  add_launch_options(cmd, o->launch, o->offset_reset);
  cmd->add_option("--out-dir", o->out_dir, "embedded: write every topic to DIR/<topic>.jsonl");
  cmd->add_option("--report", o->report, "write the run report JSON here");
  cmd->add_option("--idle-exit", o->launch.idle_exit_s,
                  "with --job: exit after this many idle seconds")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--codec", o->codec,
                  "with --job: json, or binary (binary topics, as `job run --codec binary`)")
      ->check(CLI::IsMember({"json", "binary"}));
  cmd->add_flag("--exit-at-end", o->exit_at_end,
                "in process: exit when the input ends, even with a `ui` job (by default its "
                "dashboard keeps serving the finished run until Ctrl-C)");
  cmd->callback([o] {
    app::PipelineSpec spec = app::load_pipeline(o->file);
    if (!spec.history.empty()) ::setenv("PAIRFLOW_HISTORY", spec.history.c_str(), 1);
    std::string report;
    if (o->job.empty()) {
      if (!o->launch.brokers.empty())
        throw UserError("run: --brokers needs --job NAME (one job per process on Kafka)");
      if (o->codec != "json")
        throw UserError(
            "run: --codec is for --job on Kafka (in process, messages are not encoded)");
      if (!o->launch.checkpoint.empty() || o->launch.reset_checkpoint)
        throw UserError("run: --checkpoint and --reset-checkpoint are for --job on Kafka");
      if (!o->launch.status_topic.empty())
        throw UserError(
            "run: --status-topic is for --job on Kafka (in process, the pipeline file's "
            "status_topic applies)");
      // A dashboard (`ui` job) keeps showing the finished run until Ctrl-C, as `backtest --ui`
      // does: a run that ends flat out would otherwise take it away before anyone looks.
      bool has_ui = false;
      for (const auto& j : spec.jobs) has_ui = has_ui || j.builtin == "ui";
      // Ctrl-C / SIGTERM end the input where it is; every job finishes and flushes (a second
      // Ctrl-C exits at once).
      install_stop_signals();
      std::function<void()> at_end;
      if (has_ui && !o->exit_at_end) {
        at_end = [] {
          if (engine::stop_requested()) return;  // stopped by hand: do not wait again
          std::fprintf(stderr,
                       "run: the input has ended; the dashboard keeps serving the finished run "
                       "(Ctrl-C to exit, --exit-at-end not to wait)\n");
          while (!engine::stop_requested())
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        };
      }
      app::EmbeddedReport r = app::run_embedded(spec, o->out_dir, at_end);
      if (r.stopped_early) {
        std::fprintf(stderr,
                     "run: stopped by a signal after %llu source messages; every job finished "
                     "and flushed what it had\n",
                     static_cast<unsigned long long>(r.source_messages));
      }
      for (const auto& [topic, n] : r.topics)
        std::printf("%-24s %10llu messages\n", topic.c_str(), static_cast<unsigned long long>(n));
      if (r.source_rejects > 0) {
        std::printf("source: %llu bad rows skipped (input.max_rejects); first: %s\n",
                    static_cast<unsigned long long>(r.source_rejects),
                    r.first_source_reject.c_str());
      }
      for (const auto& [name, m] : r.jobs) {
        std::printf("job %-20s processed %llu  dead letters %llu  produced %llu\n", name.c_str(),
                    static_cast<unsigned long long>(m.processed),
                    static_cast<unsigned long long>(m.dead_lettered),
                    static_cast<unsigned long long>(m.produced));
      }
      report = r.to_json();
    } else {
      if (o->launch.brokers.empty()) throw UserError("run: --job needs --brokers");
      app::LaunchOptions launch = o->launch;
      launch.offset_reset = app::parse_offset_reset(o->offset_reset);
      launch.binary_codec = o->codec == "binary";
      stream::JobMetrics m = app::run_on_kafka(spec, o->job, launch);
      report = m.to_json();
      std::fprintf(stderr, "job %s: %s\n", o->job.c_str(), report.c_str());
    }
    if (!o->report.empty()) {
      std::ofstream out(o->report);
      out << report << '\n';
      out.close();
      if (!out) throw UserError(fmt::format("{}: write failed", o->report));
    }
  });
}

}  // namespace pairflow::cli
