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
#include <optional>
#include <set>
#include <span>
#include <string>

#include "stream/checkpoint.h"
#include "stream/crash_guard.h"
#include "stream/health.h"
#include "stream/job.h"
#include "stream/transport.h"

namespace pairflow::stream {

struct JobRunOptions {
  std::string job_name;
  std::string output_topic;
  std::string params_json = "{}";
  // The Kafka cluster the job runs against ("" in process): for jobs that keep state of their
  // own there (the execution job's order journal on a compacted topic).
  std::string brokers;
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
  // A checkpoint that does not match the log it resumes (another cluster, a recreated topic, an
  // offset beyond the log end, deleted offsets): stop with an error naming it (kFail), or reset the
  // partitions that do not match to the log's start or end, like Kafka's auto.offset.reset.
  OffsetReset offset_reset = OffsetReset::kFail;
  // The crash guard beside the checkpoint (stream/crash_guard.h), already open and locked: a
  // message on which the process died max_crash_attempts times is dead-lettered on the next
  // start. Null: no guard.
  std::shared_ptr<CrashGuard> crash_guard;
  int max_crash_attempts = 3;
  // Where the runner reports liveness, readiness and its counters (stream/health.h); null: none.
  // Must outlive the runner.
  JobHealth* health = nullptr;
  // Where the runner publishes its status every checkpoint_interval and when it stops, for the
  // dashboard's jobs panel (the `ui` job reads it); "" = nowhere. One JSON record keyed by
  // checkpoint_key: {"job", "instance", "ts" (wall clock, ns), "state" (running | waiting |
  // finished | stopped), "interval_ms", "lag" (on Kafka: messages behind the log end over the
  // partitions it has read; in process: messages queued for it), "metrics"
  // (JobMetrics::to_json())}.
  std::string status_topic;
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
  JobRunner(stream::Job& job, Source& source, Sink& sink, CheckpointStore* checkpoints,
            JobRunOptions options);
  ~JobRunner();

  // Runs until the input ends, request_stop(), or idle_exit. Throws stream::JobError when setup()
  // or recover() fails, UserError on transport or checkpoint failures.
  const JobMetrics& run();

  // The same loop one batch at a time, for schedulers that interleave several jobs on one thread:
  // start() once; step() polls and processes one batch and returns false once the input has ended
  // (or a stop was requested); stop() flushes, checkpoints and, if the input ended, finishes.
  void start();
  bool step();
  void stop();
  // Between steps (the in-process scheduler, for a job whose input is idle): publishes the status
  // record when one is due, so a quiet job is not shown as stale.
  void publish_status_if_due();
  // Any thread, and signal handlers (atomics only): readiness turns false at once, then the
  // loop finishes its batch, flushes and checkpoints.
  void request_stop() {
    stop_.store(true);
    if (options_.health) options_.health->stopping.store(true);
  }
  const JobMetrics& metrics() const { return metrics_; }

 private:
  class Context;
  void dead_letter(const stream::Message& message, const std::string& error);
  void checkpoint();
  void restore(std::optional<Checkpoint> saved);
  void process(std::span<const stream::Message> work);
  void process_suspects(std::span<const stream::Message> work);
  bool suspect(const stream::Message& m) const;
  void note_last_messages(std::span<const stream::Message> work);
  void log_line(const std::string& text);
  void report_health();
  void publish_status(const char* state);

  stream::Job& job_;
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
  MessageBatch batch_;
  std::vector<stream::Job::Failure> failures_;
  std::chrono::steady_clock::time_point last_checkpoint_, last_message_, last_status_{};
  bool dirty_ = false;
  bool input_ended_ = false;
  // The log behind the source (empty cluster: not a log), and per partition the offset and
  // fingerprint of the last message processed: what a checkpoint records of its origin.
  std::string cluster_;
  std::map<std::int32_t, std::pair<std::int64_t, std::uint32_t>> last_seen_;
  std::shared_ptr<CrashGuard> guard_;
  std::optional<CrashGuard::Record> suspects_;  // what a crashed run was processing
  CrashGuard::Record record_;
};

// Stops every JobRunner registered here on SIGINT / SIGTERM (the CLI's signal handling).
void install_stop_signals(JobRunner* runner);

}  // namespace pairflow::stream
