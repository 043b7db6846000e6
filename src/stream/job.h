// Job: the unit of work of pairflow's streaming runtime, for built-in C++ stages and user jobs in
// Python, R or C++ alike.
//
// A job consumes messages of its input topics and publishes to output topics. Its lifecycle,
// driven by the runtime (JobRunner):
//   setup(ctx)          once, before the first message (open connections, load models, read params)
//   restore_state(s)    only on restart from a checkpoint: the state saved by the last
//                       snapshot_state()
//   recover(ctx)        only on restart from a checkpoint, after restore_state, before processing
//   process_batch(..)   per batch of messages (process(...) per message by default)
//   on_wake(ctx)        after every poll, with or without messages
//   sync(ctx)           at every checkpoint, first: make written data durable
//   snapshot_state()    at every checkpoint: the job's state as JSON text, stored atomically with
//                       the input position
//   finish(ctx)         when a finite input (file, stdin) has ended: flush what is pending
// A job publishes through ctx.emit(); the runtime delivers those outputs before it commits the
// input position (at-least-once). A job signals a bad message by throwing JobError (or, in Python
// and R, any exception): the runtime sends the message with the error to `dlq.<job>` and carries
// on. Failures of setup() or of loading a job file throw JobError naming the file, line and
// problem.
//
// Threading: a Job instance is driven by one thread at a time (its worker); the runtime never calls
// two of its methods concurrently. JobContext is that worker's and must not be shared.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"

namespace pairflow::stream {

// One message of a topic. The payload is the codec's text (JSON by default: one object).
struct Message {
  std::string topic;
  std::string key;
  std::string payload;
  Timestamp ts = 0;  // event time when known, else 0
  // When the log stored it (Kafka's message timestamp, ms), 0 when unknown: part of the message's
  // identity in its log (a topic recreated with the same contents has other times).
  std::int64_t log_time_ms = 0;
  std::int32_t partition = -1;
  std::int64_t offset = -1;  // position in its partition (or line number of a file/stdin input)
};

// Thrown by jobs and job hosts: a one-line message for the user or for the DLQ record.
class JobError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// What a job can do besides returning outputs. Implemented by the runtime.
class JobContext {
 public:
  virtual ~JobContext() = default;
  // Publishes a JSON object to `topic` ("" = the job's default output topic) under `key`
  // ("" = the key of the message being processed).
  virtual void emit(std::string_view topic, std::string_view key, std::string_view json) = 0;
  virtual void log(LogLevel level, std::string_view text) = 0;
  // Adds `value` to the job's named metric (a counter or a sum; exported by the runtime).
  virtual void metric(std::string_view name, double value) = 0;
  virtual const std::string& job_name() const = 0;
  virtual const std::string& output_topic() const = 0;
  // Parameters from the pipeline file or the command line (`--param k=v`), as JSON object text.
  virtual const std::string& params_json() const = 0;
  // The Kafka cluster the job runs against, "" in process.
  virtual const std::string& brokers() const {
    static const std::string kNone;
    return kNone;
  }
  // True when outputs travel in the binary codec (model/binary_codec.h): a job may then emit
  // binary payloads (a fixed schema for topics that have one, else a record) and save the sink
  // its JSON parse. JSON payloads are always accepted.
  virtual bool binary_outputs() const { return false; }
  // Sets the job's named gauge (a level, such as a spool's size or a connection state).
  virtual void gauge(std::string_view name, double value) { metric(name, 0); }
  // True once the runtime was asked to stop (SIGTERM, Ctrl-C): a job waiting on something outside
  // (a server that is down) gives up waiting and lets the runtime stop.
  virtual bool stop_requested() const { return false; }
};

class Job {
 public:
  virtual ~Job() = default;
  virtual void setup(JobContext& ctx) = 0;
  virtual void process(const Message& message, JobContext& ctx) = 0;
  // Hosts with a faster columnar path (Python's process_batch) override this. The default calls
  // process() per message; a JobError from one message is reported through `failed` and the rest
  // of the batch still runs.
  struct Failure {
    std::size_t index;
    std::string error;
  };
  virtual void process_batch(std::span<const Message> batch, JobContext& ctx,
                             std::vector<Failure>& failed) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      try {
        process(batch[i], ctx);
      } catch (const JobError& e) {
        failed.push_back({i, e.what()});
      }
    }
  }
  // True when process_batch is a real batch path; the runtime then hands it whole batches instead
  // of calling process() per message.
  virtual bool has_batch_path() const { return false; }
  // True when the job decodes binary-codec payloads itself (the Python host builds columns
  // straight from them); the runtime then hands them over undecoded. Otherwise a binary payload
  // is turned into JSON first.
  virtual bool reads_binary() const { return false; }
  // True when the job needs its input in event-time order across keys (the trader: one clock for
  // every symbol). On a partitioned Kafka topic the runtime then merges the partitions by event
  // time (stream/kafka_transport.h) instead of interleaving them as they arrive.
  virtual bool needs_event_time_order() const { return false; }
  // Of the inputs merged by event time, those that bypass the merge and go to the job as soon as
  // they arrive: operator commands, stamped with wall-clock time, must not wait behind a replay
  // of older market data. `params_json` is the job's params (the topic may be renamed there).
  virtual std::vector<std::string> out_of_band_topics(std::string_view params_json) const {
    return {};
  }
  virtual void recover(JobContext& ctx) {}
  // After every poll of the input, with or without messages (so at most a poll timeout apart
  // while the job runs): a job with inputs from outside its topics (a control socket, a broker's
  // session) acts on them here. Its emits are delivered like process()'s.
  virtual void on_wake(JobContext& ctx) {}
  // Once, when the input has ended for good (a file replay, not a stop or a crash): emit what is
  // still pending, e.g. the last partial bar.
  virtual void finish(JobContext& ctx) {}
  // At every checkpoint, before the input position is committed: a sink makes what it has written
  // durable (commits a transaction, flushes a batch to its server or its spool), so a position is
  // never committed ahead of the data. A JobError here stops the job without committing.
  virtual void sync(JobContext& ctx) {}
  virtual std::string snapshot_state() { return "{}"; }
  virtual void restore_state(std::string_view json) {}
};

}  // namespace pairflow::stream
