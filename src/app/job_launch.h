// launch_job(): one job with its transports, codec, checkpoint store, crash guard and stop
// signals, as `pairflow job run` and `pairflow run PIPELINE --job NAME` both start it.
//
// Input is stdin ("-") or Kafka topics (a consumer group); output stdout ("-") or Kafka. With Kafka
// input the job is checkpointed: by default in .pairflow/NAME.GROUP[.INSTANCE].db under the working
// directory (a SQLite file, locked by the running process), or on a Kafka topic (`kafka:TOPIC`).
// A checkpoint that does not match the brokers stops the job (see JobRunOptions::offset_reset);
// `reset_checkpoint` forgets it first. Runs on the calling thread until the input ends, idle_exit
// passes, or SIGINT/SIGTERM (then it flushes and checkpoints). Throws UserError.
#pragma once

#include <string>
#include <vector>

#include "stream/checkpoint.h"
#include "stream/job.h"
#include "stream/job_runner.h"

namespace pairflow::app {

struct LaunchOptions {
  std::string name;                 // the job's name: dlq.NAME, the checkpoint key
  std::vector<std::string> inputs;  // topics, or {"-"} for JSON lines on stdin
  std::string output;               // default output topic, or "-" for stdout
  std::string brokers, group;       // group defaults to pairflow.NAME
  std::string params_json = "{}";
  std::string checkpoint;  // "" (default path with Kafka input), FILE.db, or kafka:TOPIC
  std::string instance;    // keys the default checkpoint file when several run in one directory
  bool reset_checkpoint = false;
  stream::OffsetReset offset_reset = stream::OffsetReset::kFail;
  bool binary_codec = false;
  bool event_time_order = false;  // merge input partitions by event time (KafkaSource::Options)
  int max_idle_ms = 500;
  std::vector<std::string> out_of_band_topics;  // skip the event-time merge (operator commands)
  std::size_t batch_size = 500;
  double checkpoint_interval_s = 1.0, idle_exit_s = 0;
  std::vector<std::string> forbidden_outputs;  // besides the inputs (which are always forbidden)
  // Liveness / readiness / metrics over HTTP (stream/health.h) on this port; -1 = none, 0 = any
  // free port. Liveness fails once the job loop has not turned for health_stall_s.
  int health_port = -1;
  std::string health_bind = "0.0.0.0";
  double health_stall_s = 120;
  // The runner's status records (stream::JobRunOptions::status_topic); "" = none.
  std::string status_topic;
};

stream::JobMetrics launch_job(stream::Job& job, const LaunchOptions& options);

// Throws UserError when `status_topic` is set without Kafka output or is not a topic name (also
// checked by launch_job; callers check it before loading a job file).
void check_status_topic(const LaunchOptions& options);

// "earliest" / "latest" / "fail" -> OffsetReset. Throws UserError naming the option.
stream::OffsetReset parse_offset_reset(const std::string& text);

}  // namespace pairflow::app
