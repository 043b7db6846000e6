#include "app/job_launch.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "base/status.h"
#include "model/topics.h"
#include "stream/health.h"
#include "stream/kafka_transport.h"

namespace pairflow::app {

using stream::BinaryDecodingSource;
using stream::BinaryEncodingSink;
using stream::CheckpointStore;
using stream::CrashGuard;
using stream::JobMetrics;
using stream::JobRunner;
using stream::JobRunOptions;
using stream::KafkaCheckpointStore;
using stream::KafkaSink;
using stream::KafkaSource;
using stream::OffsetReset;
using stream::Sink;
using stream::Source;
using stream::SqliteCheckpointStore;
using stream::StdinSource;
using stream::StdoutSink;

OffsetReset parse_offset_reset(const std::string& text) {
  if (text == "fail" || text.empty()) return OffsetReset::kFail;
  if (text == "earliest") return OffsetReset::kEarliest;
  if (text == "latest") return OffsetReset::kLatest;
  throw UserError(
      fmt::format("--offset-reset '{}': expected fail (the default), earliest or latest", text));
}

void check_status_topic(const LaunchOptions& o) {
  if (o.status_topic.empty()) return;
  if (o.output == "-") throw UserError("--status-topic needs Kafka output (--out TOPIC --brokers)");
  if (Status s = topics::validate_name(o.status_topic); !s)
    throw UserError("--status-topic: " + s.message());
}

JobMetrics launch_job(stream::Job& job, const LaunchOptions& o) {
  const bool kafka_in = !(o.inputs.size() == 1 && o.inputs[0] == "-");
  const bool kafka_out = o.output != "-";
  if (o.inputs.empty()) throw UserError("no input topic");
  if (kafka_in) {
    for (const std::string& topic : o.inputs) {
      if (Status s = topics::validate_name(topic); !s) throw UserError("--in: " + s.message());
    }
  }
  if (kafka_out) {
    if (Status s = topics::validate_name(o.output); !s) throw UserError("--out: " + s.message());
    if (kafka_in && std::find(o.inputs.begin(), o.inputs.end(), o.output) != o.inputs.end())
      throw UserError(fmt::format(
          "--out '{}' is also an input: the job would read its own output forever", o.output));
  }
  if (Status s = topics::validate_name(topics::dead_letter_topic(o.name)); !s)
    throw UserError(
        fmt::format("job name '{}' cannot name its dead-letter topic: {}", o.name, s.message()));
  check_status_topic(o);
  if ((kafka_in || kafka_out) && o.brokers.empty()) {
    throw UserError(fmt::format("topic '{}' needs --brokers (or use - for stdin/stdout)",
                                kafka_in ? o.inputs[0] : o.output));
  }
  if (!kafka_in && (o.reset_checkpoint || !o.checkpoint.empty() || o.event_time_order))
    throw UserError("--checkpoint, --reset-checkpoint and --event-time-order need Kafka input");
  const std::string group = o.group.empty() ? "pairflow." + o.name : o.group;

  std::unique_ptr<Source> source;
  if (kafka_in) {
    KafkaSource::Options ko;
    ko.event_time_order = o.event_time_order;
    ko.max_idle_ms = o.max_idle_ms;
    ko.out_of_band = o.out_of_band_topics;
    auto kafka = std::make_unique<KafkaSource>(o.brokers, group, o.inputs, ko);
    if (o.reset_checkpoint) kafka->rewind();  // start over: from the log start, not the group's
    source = std::move(kafka);
  } else {
    source = std::make_unique<StdinSource>("stdin");
  }
  std::unique_ptr<Sink> sink;
  if (kafka_out) {
    auto kafka = std::make_unique<KafkaSink>(o.brokers);
    std::vector<std::string> required = {o.output, topics::dead_letter_topic(o.name)};
    if (!o.status_topic.empty()) required.push_back(o.status_topic);
    kafka->require_topics(required);
    sink = std::move(kafka);
  } else {
    sink = std::make_unique<StdoutSink>(o.output);
  }

  JobRunOptions options;
  options.job_name = o.name;
  options.output_topic = o.output;
  options.params_json = o.params_json;
  options.brokers = o.brokers;
  // One key per instance: instances of a group that share a Kafka checkpoint topic must not
  // restore each other's state.
  options.checkpoint_key = o.name + "@" + group + (o.instance.empty() ? "" : "#" + o.instance);
  options.batch_size = o.batch_size;
  options.checkpoint_interval =
      std::chrono::milliseconds(static_cast<std::int64_t>(o.checkpoint_interval_s * 1000));
  options.idle_exit = std::chrono::milliseconds(static_cast<std::int64_t>(o.idle_exit_s * 1000));
  options.binary_outputs = o.binary_codec;
  options.offset_reset = o.offset_reset;
  options.status_topic = o.status_topic;
  if (kafka_in) options.forbidden_outputs.insert(o.inputs.begin(), o.inputs.end());
  options.forbidden_outputs.insert(o.forbidden_outputs.begin(), o.forbidden_outputs.end());

  std::unique_ptr<CheckpointStore> store;
  if (kafka_in) {
    const std::string suffix = o.instance.empty() ? "" : "." + o.instance;
    std::filesystem::create_directories(".pairflow");
    std::string path = o.checkpoint;
    if (path.empty()) path = fmt::format(".pairflow/{}.{}{}.db", o.name, group, suffix);
    if (path.starts_with("kafka:")) {
      const std::string topic = path.substr(6);
      if (Status s = topics::validate_name(topic); !s)
        throw UserError("--checkpoint kafka:TOPIC: " + s.message());
      // The guard (and its lock) stays local: it is about this machine's process.
      options.crash_guard = std::make_shared<CrashGuard>(
          fmt::format(".pairflow/{}.{}{}.inflight", o.name, group, suffix));
      store = std::make_unique<KafkaCheckpointStore>(o.brokers, topic);
    } else {
      // The guard file is the lock, taken before the store is touched (or reset).
      options.crash_guard = std::make_shared<CrashGuard>(path + ".inflight");
      store = std::make_unique<SqliteCheckpointStore>(path);
    }
    if (o.reset_checkpoint) {
      store->reset(options.checkpoint_key);
      std::fprintf(stderr, "job %s: checkpoint '%s' in %s reset\n", o.name.c_str(),
                   options.checkpoint_key.c_str(), store->describe().c_str());
    }
  }

  std::unique_ptr<Source> decoding;
  std::unique_ptr<Sink> encoding;
  if (o.binary_codec) {
    decoding = std::make_unique<BinaryDecodingSource>(*source, !job.reads_binary());
    encoding = std::make_unique<BinaryEncodingSink>(*sink);
  }
  std::unique_ptr<stream::JobHealth> health;
  std::unique_ptr<stream::HealthServer> health_server;
  if (o.health_port >= 0) {
    health = std::make_unique<stream::JobHealth>();
    health_server = std::make_unique<stream::HealthServer>(
        *health, o.name, o.health_bind, o.health_port,
        std::chrono::milliseconds(static_cast<std::int64_t>(o.health_stall_s * 1000)));
    options.health = health.get();
    std::fprintf(stderr, "job %s: health on http://%s:%d (/healthz /readyz /metrics)\n",
                 o.name.c_str(), o.health_bind.c_str(), health_server->port());
  }
  JobRunner runner(job, decoding ? *decoding : *source, encoding ? *encoding : *sink, store.get(),
                   options);
  stream::install_stop_signals(&runner);
  try {
    runner.run();
  } catch (const stream::JobError& e) {
    stream::install_stop_signals(nullptr);
    throw UserError(e.what());
  } catch (...) {
    stream::install_stop_signals(nullptr);
    throw;
  }
  stream::install_stop_signals(nullptr);
  return runner.metrics();
}

}  // namespace pairflow::app
