// Pipeline files: a TOML list of topics and jobs, run embedded (every job in this process over
// in-memory topics) or one job at a time against Kafka.
//
//   external_topics = ["pairs.control"]  # topics other systems write (distributed placement)
//
//   history = "history.db"        # the history file jobs read (pairflow.history(), warm-up);
//                                 # exported to jobs as PAIRFLOW_HISTORY
//
//   [source]                      # the tick source, published to `topic` (default "ticks")
//   kind = "generator"            # or "csv" with path = "ticks.csv"
//   config = "examples/demo.toml" # generator: its [market] section; optional
//   set = ["market.symbols=20"]   # overrides; optional
//
//   [[job]]                       # jobs in data-flow order: a job reads the source topic or a
//   name = "bars"                 # topic an earlier job writes
//   builtin = "bars"              # or file = "examples/jobs/x.py" (.py, .R, .so), relative to
//   in = "ticks"                  # the pipeline file; a list of topics for multi-input jobs
//                                 # (the join)
//   out = "bars.1m"
//   params = { interval = "1m" }  # handed to setup() as JSON; a `config` path in params is
//                                 # relative to the pipeline file too
//
// Loading is strict (unknown keys, missing fields, unordered jobs are UserErrors naming the file).
// Runs on the calling thread.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "app/job_launch.h"
#include "engine/config.h"
#include "model/topics.h"
#include "stream/job_runner.h"

namespace pairflow::app {

struct JobSpec {
  std::string name, builtin, file, in, out;
  std::vector<std::string> inputs;  // every input topic; `in` is the first (the driving one)
  std::string params_json = "{}";
};

struct SourceSpec {
  std::string kind = "generator";  // generator | csv
  std::string path;                // csv
  std::string topic{topics::kTicks};
  engine::EngineConfig config;  // market (generator) and input policy (csv)
};

struct PipelineSpec {
  std::string path;
  std::string history;  // `history = FILE`: what jobs read (exported as PAIRFLOW_HISTORY)
  // `status_topic = TOPIC`: where every job publishes its status (the ui job's jobs panel), on
  // Kafka and in process (where a job reading it finishes last); "" = none.
  std::string status_topic;
  SourceSpec source;
  std::vector<JobSpec> jobs;
};

PipelineSpec load_pipeline(const std::string& path);

struct EmbeddedReport {
  std::map<std::string, stream::JobMetrics> jobs;  // by job name
  std::map<std::string, std::uint64_t> topics;     // messages per topic
  std::uint64_t source_messages = 0;
  std::uint64_t source_rejects = 0;  // bad rows of a CSV source skipped under input.max_rejects
  std::string first_source_reject;
  bool stopped_early = false;  // engine::request_stop() ended the input before the source did
  std::string to_json() const;
};

// Runs every job in this process. With `out_dir`, writes each topic to OUT_DIR/<topic>.jsonl.
// `at_end`, when set, runs once every job has finished and before any is destroyed: what a job
// still serves (the `ui` job's dashboard) stays up while it runs. engine::request_stop() (any
// thread or a signal handler) ends the input after the current batch; the jobs then finish as at
// a normal end.
EmbeddedReport run_embedded(const PipelineSpec& spec, const std::string& out_dir,
                            const std::function<void()>& at_end = {});

// Runs one job of the file against Kafka ("source" publishes the tick source), started as
// launch_job() starts it: `options` gives the brokers, group, checkpoint and codec; the name,
// topics and params come from the file. Returns its metrics.
stream::JobMetrics run_on_kafka(const PipelineSpec& spec, const std::string& job,
                                LaunchOptions options);

}  // namespace pairflow::app
