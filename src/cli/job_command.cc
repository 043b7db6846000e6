// `pairflow job run`: one job file over stdin/stdout or Kafka.
#include <fmt/format.h>
#include <simdjson.h>
#include <stdlib.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "app/job_launch.h"
#include "app/load_job.h"
#include "app/pipeline_file.h"
#include "cli/commands.h"
#include "cli/launch_options.h"
#include "model/json.h"
#include "model/topics.h"
#include "stream/job_runner.h"
#include "stream/kafka_transport.h"

namespace pairflow::cli {

void register_job(CLI::App& app) {
  auto* job_cmd = app.add_subcommand("job", "run one-file Python / R / C++ jobs");
  job_cmd->require_subcommand(1);
  auto* cmd = job_cmd->add_subcommand("run", "run a job: FILE.py, FILE.R or FILE.so");
  struct Options {
    app::LaunchOptions launch;
    std::string file, in, metrics_file, offset_reset = "fail", codec = "json", history;
    std::vector<std::string> params;
  };
  auto o = std::make_shared<Options>();
  app::LaunchOptions& l = o->launch;
  cmd->add_option("file", o->file, "job file")->required();
  cmd->add_option("--history", o->history,
                  "the history file pairflow.history() reads (else $PAIRFLOW_HISTORY)");
  cmd->add_option("--in", o->in, "input topic (or topics: a,b), or - for JSON lines on stdin")
      ->required();
  cmd->add_option("--out", l.output, "default output topic, or - for stdout")->required();
  cmd->add_option("--brokers", l.brokers, "Kafka bootstrap servers host:port,...");
  cmd->add_option("--group", l.group, "consumer group (default pairflow.NAME)");
  cmd->add_option("--name", l.name,
                  "job name: DLQ topic dlq.NAME, checkpoint key (default: file stem)");
  add_launch_options(cmd, l, o->offset_reset);
  cmd->add_flag("--event-time-order", l.event_time_order,
                "merge the input partitions by event time (for jobs that need one clock across "
                "keys); see docs/jobs.md");
  cmd->add_option("--param", o->params, "parameter key=value for setup() (repeatable)");
  cmd->add_option("--batch", l.batch_size, "messages per batch")->check(CLI::Range(1, 1000000));
  cmd->add_option("--checkpoint-interval", l.checkpoint_interval_s, "seconds between checkpoints")
      ->check(CLI::Range(0.001, 86400.0));
  cmd->add_option("--idle-exit", l.idle_exit_s, "exit after this many idle seconds (0 = never)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--metrics", o->metrics_file, "write the final metrics JSON here");
  cmd->add_option("--codec", o->codec,
                  "json, or binary: read binary input; write outputs in their topic's schema, "
                  "else as binary records (docs/jobs.md)")
      ->check(CLI::IsMember({"json", "binary"}));
  cmd->callback([o] {
    if (!o->history.empty()) ::setenv("PAIRFLOW_HISTORY", o->history.c_str(), 1);
    app::LaunchOptions l = o->launch;
    if (l.name.empty()) l.name = std::filesystem::path(o->file).stem().string();
    l.inputs.clear();
    for (std::size_t start = 0; start <= o->in.size();) {
      const std::size_t comma = std::min(o->in.find(',', start), o->in.size());
      if (comma > start) l.inputs.push_back(o->in.substr(start, comma - start));
      start = comma + 1;
    }
    if (l.inputs.empty()) throw UserError(fmt::format("--in '{}': no topic named", o->in));
    l.params_json = params_object(o->params);
    l.offset_reset = app::parse_offset_reset(o->offset_reset);
    l.binary_codec = o->codec == "binary";
    // Topics are judged before the job file is loaded (a typo should not wait for Python or R).
    for (const std::string& t : l.inputs) {
      if (t == "-") continue;
      if (Status s = topics::validate_name(t); !s) throw UserError("--in: " + s.message());
    }
    if (l.output != "-") {
      if (Status s = topics::validate_name(l.output); !s) throw UserError("--out: " + s.message());
    }
    app::check_status_topic(l);
    std::unique_ptr<stream::Job> job;
    try {
      job = app::load_job(o->file);
    } catch (const stream::JobError& e) {
      throw UserError(e.what());
    }
    if (job->needs_event_time_order()) l.event_time_order = true;
    const stream::JobMetrics metrics = app::launch_job(*job, l);
    const std::string text = metrics.to_json();
    std::fprintf(stderr, "job %s: %s\n", l.name.c_str(), text.c_str());
    if (!o->metrics_file.empty()) {
      std::ofstream out(o->metrics_file);
      out << text << '\n';
      out.close();
      if (!out) throw UserError(fmt::format("{}: write failed", o->metrics_file));
    }
  });
}

}  // namespace pairflow::cli
