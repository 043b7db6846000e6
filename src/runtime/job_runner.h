// JobRunner: drives one Job over a Source and a Sink, with dead letters, checkpoints and metrics.
//
// Loop: poll a batch -> skip messages a restored checkpoint already covers -> process (per message,
// or as a batch for jobs with a batch path) -> failures go to `dlq.<job>` as a JSON envelope
// {job, error, topic, partition, offset, key, payload} (payload: the original bytes as a string,
// or payload_base64 when they are not UTF-8) -> every checkpoint interval, and at the end:
// Sink::flush() (outputs delivered), CheckpointStore::save(positions, state), Source::commit().
// On start with a checkpoint: restore_state(), recover(), and processing resumes after the saved
// position. request_stop() (wired to SIGINT/SIGTERM by the CLI) makes run() finish the batch in
// hand, flush, checkpoint and return.
//
// Lifecycle: construct, run() once. Single-threaded: the job, source and sink are driven by the
// thread that calls run().
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "jobs/job.h"
#include "runtime/checkpoint.h"
#include "runtime/transport.h"

namespace pairflow::runtime {

struct JobRunOptions {
  std::string job_name;
  std::string output_topic;
  std::string params_json = "{}";
  std::string checkpoint_key;  // default: job_name
  std::size_t batch_size = 500;
  std::chrono::milliseconds checkpoint_interval{1000};
  int poll_timeout_ms = 100;
  // Stop when the source has been idle this long (0 = run until stopped or the input ends).
  std::chrono::milliseconds idle_exit{0};
  // Outputs go out in the binary codec (`--codec binary`); jobs may emit binary payloads directly.
  bool binary_outputs = false;
  // Topics the job must not write: its inputs and those of jobs before it. An emit() to one would
  // feed a job its own output forever; it fails the message (DLQ) instead.
  std::set<std::string> forbidden_outputs;
};

struct JobMetrics {
  std::uint64_t consumed = 0, processed = 0, produced = 0, dead_lettered = 0, skipped = 0;
  std::uint64_t checkpoints = 0;
  bool restored = false;               // started from a checkpoint (recover() ran)
  std::map<std::string, double> user;  // pairflow.metric(...) from the job
  std::string to_json() const;
};

class JobRunner {
 public:
  JobRunner(jobs::Job& job, Source& source, Sink& sink, CheckpointStore* checkpoints,
            JobRunOptions options);
  ~JobRunner();

  // Runs until the input ends, request_stop(), or idle_exit. Throws jobs::JobError when setup()
  // or recover() fails, UserError on transport or checkpoint failures.
  const JobMetrics& run();

  // The same loop one batch at a time, for schedulers that interleave several jobs on one thread:
  // start() once; step() polls and processes one batch and returns false once the input has ended
  // (or a stop was requested); stop() flushes, checkpoints and, if the input ended, finishes.
  void start();
  bool step();
  void stop();
  void request_stop() { stop_.store(true); }
  const JobMetrics& metrics() const { return metrics_; }

 private:
  class Context;
  void dead_letter(const jobs::Message& message, const std::string& error);
  void checkpoint();

  jobs::Job& job_;
  Source& source_;
  Sink& sink_;
  CheckpointStore* checkpoints_;
  JobRunOptions options_;
  std::string dlq_topic_;
  std::unique_ptr<Context> context_;
  JobMetrics metrics_;
  Positions positions_;  // next offset per partition, after what has been processed
  Positions resume_;     // from the checkpoint: messages before these are already done
  std::uint64_t sequence_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<jobs::Message> batch_, work_;
  std::vector<jobs::Job::Failure> failures_;
  std::chrono::steady_clock::time_point last_checkpoint_, last_message_;
  bool dirty_ = false;
  bool input_ended_ = false;
};

// Stops every JobRunner registered here on SIGINT / SIGTERM (the CLI's signal handling).
void install_stop_signals(JobRunner* runner);

}  // namespace pairflow::runtime
