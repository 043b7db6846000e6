#include "app/pipeline_file.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "app/job_launch.h"
#include "app/load_job.h"
#include "base/json_writer.h"
#include "base/reject_policy.h"
#include "engine/run_drivers.h"
#include "engine/tick_source.h"
#include "jobs/builtin_jobs.h"
#include "model/json.h"
#include "model/topics.h"
#include "sim/market.h"
#include "stream/kafka_transport.h"
#include "stream/local_bus.h"

namespace pairflow::app {

using engine::CsvTickSource;
using engine::ReadResult;
using jobs::BuiltinJobInfo;
using stream::BinaryEncodingSink;
using stream::JobMetrics;
using stream::JobRunner;
using stream::JobRunOptions;
using stream::KafkaSink;
using stream::LocalBus;
using stream::MessageBatch;
using stream::Positions;
using stream::Sink;
using stream::Source;
namespace {

std::string resolve(const std::string& base_file, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_file).parent_path() / path).lexically_normal().string();
}

// The tick source as a runtime Source of tick JSON messages (offset = tick number).
class TickSource : public Source {
 public:
  explicit TickSource(const SourceSpec& spec) : spec_(spec) {
    if (spec.kind == "generator") {
      market_ = std::make_unique<sim::MarketGenerator>(spec.config.market);
    } else {
      csv_ = std::make_unique<CsvTickSource>(spec.path, symbols_);
    }
  }
  bool poll(MessageBatch& out, std::size_t max, int) override {
    Tick tick;
    std::string error;
    for (std::size_t n = 0; n < max; ++n) {
      if (market_) {
        if (!market_->next(tick)) return false;
      } else {
        ReadResult r = csv_->next(tick, error);
        if (r == ReadResult::kEnd) return false;
        if (r == ReadResult::kBadRow) {
          policy_.on_reject(error);  // counted and reported (EmbeddedReport), or fatal
          continue;
        }
      }
      const SymbolTable& symbols = market_ ? market_->symbols() : symbols_;
      stream::Message& m = out.add();
      m.topic = spec_.topic;
      m.key = symbols.name(tick.symbol);
      m.payload = to_json(tick, symbols);
      m.ts = tick.ts;
      m.partition = 0;
      m.offset = offset_++;
    }
    return true;
  }
  void commit(const Positions&) override {}
  const RejectPolicy& rejects() const { return policy_; }

 private:
  const SourceSpec& spec_;
  SymbolTable symbols_;
  std::unique_ptr<sim::MarketGenerator> market_;
  std::unique_ptr<CsvTickSource> csv_;
  std::int64_t offset_ = 0;
  RejectPolicy policy_{spec_.config.max_rejects, "input.max_rejects"};
};

// Everything `source` has, to `sink`, a batch at a time; `after_batch` runs after each and returns
// false to end the input there. Returns the messages published.
template <typename AfterBatch>
std::uint64_t publish(Source& source, Sink& sink, std::size_t batch_size, AfterBatch after_batch) {
  MessageBatch batch;
  std::uint64_t published = 0;
  for (bool more = true; more;) {
    batch.clear();
    more = source.poll(batch, batch_size, 0);
    for (const auto& m : batch) sink.produce(m.topic, m.key, m.payload);
    published += batch.size();
    if (!after_batch()) break;  // asked to stop: the input ends here
  }
  return published;
}

std::unique_ptr<stream::Job> make_job(const JobSpec& spec) {
  try {
    return spec.builtin.empty() ? load_job(spec.file) : jobs::make_builtin_job(spec.builtin);
  } catch (const stream::JobError& e) {
    throw UserError(fmt::format("job '{}': {}", spec.name, e.what()));
  }
}

JobRunOptions options_for(const JobSpec& spec) {
  JobRunOptions o;
  o.job_name = spec.name;
  o.output_topic = spec.out;
  o.params_json = spec.params_json;
  o.poll_timeout_ms = 0;
  o.checkpoint_interval = std::chrono::milliseconds(1000);
  return o;
}

}  // namespace

PipelineSpec load_pipeline(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw UserError(fmt::format("{}: cannot read pipeline file: not a regular file", path));
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw UserError(fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
  }
  PipelineSpec spec;
  spec.path = path;
  auto fail = [&](const std::string& what) { throw UserError(fmt::format("{}: {}", path, what)); };
  for (const auto& [key, node] : root) {
    if (key != "source" && key != "job" && key != "external_topics" && key != "history" &&
        key != "status_topic")
      fail(fmt::format("unknown key '{}' (expected [source] and [[job]])", key.str()));
  }
  if (auto* history = root["history"].as_string()) {
    // The file jobs read history from (pairflow.history(), warm-up), relative to the pipeline.
    spec.history = resolve(path, history->get());
  } else if (root["history"]) {
    fail("history must be a file name (the history file jobs read)");
  }
  if (auto* source = root["source"].as_table()) {
    for (const auto& [key, node] : *source) {
      static const std::set<std::string> kKeys = {"kind", "path", "topic", "config", "set"};
      if (!kKeys.count(std::string(key.str())))
        fail(fmt::format("unknown key 'source.{}'", key.str()));
    }
    spec.source.kind = (*source)["kind"].value_or<std::string>("generator");
    spec.source.path = resolve(path, (*source)["path"].value_or<std::string>(""));
    spec.source.topic = (*source)["topic"].value_or<std::string>(std::string(topics::kTicks));
    std::string config = resolve(path, (*source)["config"].value_or<std::string>(""));
    if (!config.empty()) spec.source.config = engine::load_config(config);
    std::vector<std::string> overrides;
    if (auto* set = (*source)["set"].as_array()) {
      for (const auto& item : *set) {
        if (!item.is_string()) fail("source.set must be a list of strings");
        overrides.push_back(*item.value<std::string>());
      }
    }
    engine::apply_overrides(spec.source.config, overrides);
    if (spec.source.kind != "generator" && spec.source.kind != "csv") {
      fail(fmt::format("source.kind must be 'generator' or 'csv', got '{}'", spec.source.kind));
    }
    if (spec.source.kind == "csv" && spec.source.path.empty())
      fail("source.kind = 'csv' needs source.path");
  }
  auto check_topic = [&](const std::string& topic, const std::string& where) {
    if (Status s = topics::validate_name(topic); !s)
      fail(fmt::format("{}: {}", where, s.message()));
  };
  check_topic(spec.source.topic, "source.topic");
  std::set<std::string> available = {spec.source.topic}, names = {"source"};
  if (auto* status = root["status_topic"].as_string()) {
    // Every job run on Kafka (--job) publishes its status there; the ui job reads it.
    spec.status_topic = status->get();
    check_topic(spec.status_topic, "status_topic");
    available.insert(spec.status_topic);
  } else if (root["status_topic"]) {
    fail("status_topic must be a topic name");
  }
  if (const toml::array* external = root["external_topics"].as_array()) {
    for (const auto& item : *external) {
      if (!item.is_string()) fail("external_topics must be a list of topic names");
      check_topic(*item.value<std::string>(), "external_topics");
      available.insert(*item.value<std::string>());
    }
  }
  // Topics read so far (by this job or an earlier one): writing one of them would feed a job its
  // own output, a cycle that never ends (and fills the disk with --out-dir).
  std::set<std::string> read_so_far;
  if (auto* jobs = root["job"].as_array()) {
    for (const auto& node : *jobs) {
      const toml::table* t = node.as_table();
      if (!t) fail("[[job]] entries must be tables");
      JobSpec job;
      for (const auto& [key, value] : *t) {
        static const std::set<std::string> kKeys = {"name", "builtin", "file",
                                                    "in",   "out",     "params"};
        if (!kKeys.count(std::string(key.str())))
          fail(fmt::format("unknown key 'job.{}'", key.str()));
      }
      job.name = (*t)["name"].value_or<std::string>("");
      job.builtin = (*t)["builtin"].value_or<std::string>("");
      job.file = resolve(path, (*t)["file"].value_or<std::string>(""));
      if (const toml::array* list = (*t)["in"].as_array()) {
        for (const auto& item : *list) {
          if (!item.is_string())
            fail(fmt::format("job '{}': in must be a topic or a list of topics", job.name));
          job.inputs.push_back(*item.value<std::string>());
        }
      } else if (auto one = (*t)["in"].value<std::string>()) {
        job.inputs.push_back(*one);
      }
      if (!job.inputs.empty()) job.in = job.inputs.front();
      job.out = (*t)["out"].value_or<std::string>("");
      if (job.name.empty()) fail("a [[job]] has no name");
      if (!names.insert(job.name).second)
        fail(fmt::format("job name '{}' is used twice", job.name));
      if (job.builtin.empty() == job.file.empty())
        fail(fmt::format("job '{}': give exactly one of builtin or file", job.name));
      if (job.in.empty() || job.out.empty())
        fail(fmt::format("job '{}': needs in and out topics", job.name));
      const std::string where = fmt::format("job '{}'", job.name);
      check_topic(topics::dead_letter_topic(job.name),
                  where + " name (its dead letters go to dlq.NAME)");
      for (const std::string& topic : job.inputs) check_topic(topic, where + " in");
      check_topic(job.out, where + " out");
      read_so_far.insert(job.inputs.begin(), job.inputs.end());
      for (const std::string& topic : job.inputs) {
        if (!available.count(topic)) {
          fail(
              fmt::format("job '{}' reads '{}', which neither the source nor an earlier job writes",
                          job.name, topic));
        }
      }
      std::vector<std::string> writes = {job.out};
      if (!job.builtin.empty()) {
        try {
          const BuiltinJobInfo& info = jobs::builtin_job(job.builtin);
          writes.insert(writes.end(), info.outputs.begin(), info.outputs.end());
          for (const std::string& param : info.output_params) {
            if (auto topic = (*t)["params"][param].value<std::string>(); topic && !topic->empty()) {
              check_topic(*topic, fmt::format("job '{}' params.{}", job.name, param));
              writes.push_back(*topic);
            }
          }
        } catch (const stream::JobError& e) {
          fail(fmt::format("job '{}': {}", job.name, e.what()));
        }
      }
      for (const std::string& topic : writes) {
        if (read_so_far.count(topic) || topic == spec.source.topic) {
          fail(
              fmt::format("job '{}' writes '{}', which {} reads: a cycle (a pipeline flows one "
                          "way; write to a new topic)",
                          job.name, topic,
                          std::count(job.inputs.begin(), job.inputs.end(), topic) > 0
                              ? "it"
                              : (topic == spec.source.topic ? "the source writes and a job"
                                                            : "an earlier job")));
        }
        available.insert(topic);
      }
      available.insert(topics::dead_letter_topic(job.name));
      if (const toml::table* given = (*t)["params"].as_table()) {
        toml::table params = *given;
        // A `config` file named in params is relative to the pipeline file, like `file`.
        if (auto config = params["config"].value<std::string>()) {
          params.insert_or_assign("config", resolve(path, *config));
        }
        std::ostringstream json;
        json << toml::json_formatter{params};
        job.params_json = json.str();
      }
      if (!job.builtin.empty()) {
        try {
          jobs::check_builtin_params(job.builtin, job.params_json);
        } catch (const stream::JobError& e) {
          fail(fmt::format("job '{}': {}", job.name, e.what()));
        }
      }
      spec.jobs.push_back(job);
    }
  }
  if (spec.jobs.empty()) fail("no [[job]] entries");
  return spec;
}

std::string EmbeddedReport::to_json() const {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("source_messages", source_messages);
  w.field("source_rejects", source_rejects);
  if (source_rejects > 0) w.field("first_source_reject", first_source_reject);
  // Only when so: the reports of whole runs compare equal across versions.
  if (stopped_early) w.field("stopped_early", true);
  w.key("topics").begin_object();
  for (const auto& [topic, n] : topics) w.field(topic, n);
  w.end_object().key("jobs").begin_object();
  for (const auto& [name, m] : jobs) w.raw_field(name, m.to_json());
  w.end_object().end_object();
  return out;
}

EmbeddedReport run_embedded(const PipelineSpec& spec, const std::string& out_dir,
                            const std::function<void()>& at_end) {
  // Status records (the ui's jobs panel): every runner publishes them, as on Kafka. A job that
  // reads them is finished after all the others, so that it sees their final records; its own
  // output must then feed no later job (that job would have finished before it).
  const std::string& status_topic = spec.status_topic;
  auto reads_status = [&](const JobSpec& j) {
    return !status_topic.empty() &&
           std::find(j.inputs.begin(), j.inputs.end(), status_topic) != j.inputs.end();
  };
  for (std::size_t i = 0; i < spec.jobs.size(); ++i) {
    if (!reads_status(spec.jobs[i])) continue;
    for (std::size_t k = i + 1; k < spec.jobs.size(); ++k) {
      const auto& later = spec.jobs[k].inputs;
      if (std::find(later.begin(), later.end(), spec.jobs[i].out) != later.end())
        throw UserError(fmt::format(
            "{}: job '{}' reads the status topic '{}', so in process it finishes after every "
            "other job; its output '{}' cannot feed job '{}'",
            spec.path, spec.jobs[i].name, status_topic, spec.jobs[i].out, spec.jobs[k].name));
    }
  }
  LocalBus bus(out_dir);
  std::vector<std::unique_ptr<stream::Job>> jobs;
  std::vector<LocalBus::Subscription*> inputs;
  std::vector<std::unique_ptr<JobRunner>> runners;
  std::set<std::string> read_so_far = {spec.source.topic};
  for (const JobSpec& j : spec.jobs) {
    jobs.push_back(make_job(j));
    inputs.push_back(&bus.subscribe(j.inputs));
    JobRunOptions options = options_for(j);
    options.status_topic = status_topic;
    read_so_far.insert(j.inputs.begin(), j.inputs.end());
    options.forbidden_outputs = read_so_far;  // a job's emit() into these would be a cycle
    runners.push_back(
        std::make_unique<JobRunner>(*jobs.back(), *inputs.back(), bus, nullptr, options));
  }
  for (auto& r : runners) {
    try {
      r->start();
    } catch (const stream::JobError& e) {
      throw UserError(e.what());
    }
  }
  // Steps every running job with pending input until their queues are empty. (A finished job's
  // queue may still get records: a status reader's own final status record.)
  std::vector<bool> finished(runners.size(), false);
  auto drain = [&] {
    for (bool busy = true; busy;) {
      busy = false;
      for (std::size_t i = 0; i < runners.size(); ++i) {
        if (!finished[i] && !inputs[i]->empty()) {
          runners[i]->step();
          busy = true;
        }
      }
    }
  };
  TickSource source(spec.source);
  EmbeddedReport report;
  // engine::request_stop() (Ctrl-C / SIGTERM in `pairflow run`) ends the input after the batch in
  // hand; every job then drains and finishes as at a normal end, so what they wrote is complete.
  report.source_messages = publish(source, bus, 1024, [&] {
    drain();
    for (auto& r : runners) r->publish_status_if_due();  // also the jobs whose input is quiet
    report.stopped_early = engine::stop_requested();
    return !report.stopped_early;
  });
  // End of input, in data-flow order. Every job before i has finished, and jobs only read topics
  // of the source or of earlier jobs, so job i's inputs are complete: close them, let it drain and
  // finish(), and hand what finish() emitted to the later jobs.
  std::vector<std::size_t> status_readers;
  auto finish = [&](std::size_t i) {
    while (runners[i]->step()) {
    }
    runners[i]->stop();
    finished[i] = true;
    drain();
  };
  for (std::size_t i = 0; i < runners.size(); ++i) {
    for (const std::string& topic : spec.jobs[i].inputs)
      if (topic != status_topic) bus.close(topic);
    if (reads_status(spec.jobs[i]))
      status_readers.push_back(i);
    else
      finish(i);
  }
  if (!status_topic.empty()) bus.close(status_topic);
  for (std::size_t i : status_readers) finish(i);
  bus.flush();
  if (at_end) at_end();
  for (std::size_t i = 0; i < runners.size(); ++i)
    report.jobs[spec.jobs[i].name] = runners[i]->metrics();
  report.topics = bus.counts();
  report.topics.erase(status_topic);  // wall-clock records: not part of the run's data flow
  report.topics[spec.source.topic] = report.source_messages;
  report.source_rejects = static_cast<std::uint64_t>(source.rejects().count());
  report.first_source_reject = source.rejects().first();
  return report;
}

JobMetrics run_on_kafka(const PipelineSpec& spec, const std::string& job_name,
                        LaunchOptions options) {
  if (job_name == "source") {
    KafkaSink kafka_sink(options.brokers);
    kafka_sink.require_topics({spec.source.topic});
    BinaryEncodingSink binary_sink(kafka_sink);
    Sink& sink = options.binary_codec ? static_cast<Sink&>(binary_sink) : kafka_sink;
    TickSource source(spec.source);
    JobMetrics metrics;
    metrics.produced = publish(source, sink, 4096, [] { return true; });
    sink.flush();
    return metrics;
  }
  const JobSpec* spec_job = nullptr;
  for (const auto& j : spec.jobs) {
    if (j.name == job_name) spec_job = &j;
  }
  if (!spec_job) {
    std::string names = "source";
    for (const auto& j : spec.jobs) names += ", " + j.name;
    throw UserError(fmt::format("{}: no job named '{}' (jobs: {})", spec.path, job_name, names));
  }
  auto job = make_job(*spec_job);
  options.name = job_name;
  options.inputs = spec_job->inputs;
  options.output = spec_job->out;
  options.params_json = spec_job->params_json;
  if (options.status_topic.empty()) options.status_topic = spec.status_topic;
  if (job->needs_event_time_order()) options.event_time_order = true;
  options.out_of_band_topics = job->out_of_band_topics(spec_job->params_json);
  return launch_job(*job, options);
}

}  // namespace pairflow::app
