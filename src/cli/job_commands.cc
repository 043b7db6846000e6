// `pairflow job run` (one job over stdin/stdout or Kafka) and `pairflow kafka-mock`.
#include <fmt/format.h>
#include <simdjson.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "cli/commands.h"
#include "model/json.h"
#include "model/topics.h"
#include "runtime/job_runner.h"
#include "runtime/kafka_transport.h"
#include "runtime/pipeline_file.h"

namespace pairflow::cli {
namespace {

// --param k=v pairs as a JSON object; a value that is valid JSON stays JSON, anything else is a
// string.
std::string params_object(const std::vector<std::string>& params) {
  std::string out = "{";
  simdjson::dom::parser parser;
  for (const std::string& p : params) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UserError(fmt::format("--param '{}': expected key=value", p));
    std::string key = p.substr(0, eq), value = p.substr(eq + 1);
    simdjson::dom::element element;
    bool is_json = !value.empty() && !parser.parse(value).get(element);
    out += fmt::format("{}{}:{}", out.size() > 1 ? "," : "", json_string(key),
                       is_json ? value : json_string(value));
  }
  return out + "}";
}

}  // namespace

void register_job(CLI::App& app) {
  auto* job_cmd = app.add_subcommand("job", "run one-file Python / R / C++ jobs");
  job_cmd->require_subcommand(1);
  auto* cmd = job_cmd->add_subcommand("run", "run a job: FILE.py, FILE.R or FILE.so");
  struct Options {
    std::string file, in, out, brokers, group, name, checkpoint, metrics_file, codec = "json";
    std::vector<std::string> params;
    std::size_t batch = 500;
    double checkpoint_interval_s = 1.0, idle_exit_s = 0;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("file", o->file, "job file")->required();
  cmd->add_option("--in", o->in, "input topic (or topics: a,b), or - for JSON lines on stdin")
      ->required();
  cmd->add_option("--out", o->out, "default output topic, or - for stdout")->required();
  cmd->add_option("--brokers", o->brokers, "Kafka bootstrap servers host:port,...");
  cmd->add_option("--group", o->group, "consumer group (default pairflow.NAME)");
  cmd->add_option("--name", o->name,
                  "job name: DLQ topic dlq.NAME, checkpoint key (default: file stem)");
  cmd->add_option(
      "--checkpoint", o->checkpoint,
      "checkpoint: a SQLite FILE.db (default with Kafka input: .pairflow/NAME.GROUP.db) "
      "or kafka:TOPIC (state on Kafka, found from any machine)");
  cmd->add_option("--param", o->params, "parameter key=value for setup() (repeatable)");
  cmd->add_option("--batch", o->batch, "messages per batch")->check(CLI::Range(1, 1000000));
  cmd->add_option("--checkpoint-interval", o->checkpoint_interval_s, "seconds between checkpoints")
      ->check(CLI::Range(0.001, 86400.0));
  cmd->add_option("--idle-exit", o->idle_exit_s, "exit after this many idle seconds (0 = never)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--metrics", o->metrics_file, "write the final metrics JSON here");
  cmd->add_option("--codec", o->codec,
                  "json, or binary: read binary input; write outputs in their topic's schema, "
                  "else as binary records (docs/jobs.md)")
      ->check(CLI::IsMember({"json", "binary"}));
  cmd->callback([o] {
    const bool kafka_in = o->in != "-", kafka_out = o->out != "-";
    std::string name = o->name.empty() ? std::filesystem::path(o->file).stem().string() : o->name;
    std::string group = o->group.empty() ? "pairflow." + name : o->group;
    std::vector<std::string> topics;
    if (kafka_in) {
      for (std::size_t start = 0; start <= o->in.size();) {
        const std::size_t comma = std::min(o->in.find(',', start), o->in.size());
        if (comma > start) topics.push_back(o->in.substr(start, comma - start));
        start = comma + 1;
      }
      if (topics.empty()) throw UserError(fmt::format("--in '{}': no topic named", o->in));
    }
    for (const std::string& topic : topics) {
      if (Status s = topics::validate_name(topic); !s) throw UserError("--in: " + s.message());
    }
    if (kafka_out) {
      if (Status s = topics::validate_name(o->out); !s) throw UserError("--out: " + s.message());
      if (std::find(topics.begin(), topics.end(), o->out) != topics.end())
        throw UserError(fmt::format(
            "--out '{}' is also an input: the job would read its own output forever", o->out));
    }
    if (Status s = topics::validate_name("dlq." + name); !s)
      throw UserError(
          fmt::format("job name '{}' cannot name its dead-letter topic: {}", name, s.message()));
    if ((kafka_in || kafka_out) && o->brokers.empty()) {
      throw UserError(fmt::format("job run: topic '{}' needs --brokers (or use - for stdin/stdout)",
                                  kafka_in ? o->in : o->out));
    }
    std::unique_ptr<jobs::Job> job;
    try {
      job = jobs::load_job(o->file);
    } catch (const jobs::JobError& e) {
      throw UserError(e.what());
    }
    std::unique_ptr<runtime::Source> source;
    if (kafka_in) {
      source = std::make_unique<runtime::KafkaSource>(o->brokers, group, topics);
    } else {
      source = std::make_unique<runtime::StdinSource>("stdin");
    }
    std::unique_ptr<runtime::Sink> sink;
    if (kafka_out) {
      sink = std::make_unique<runtime::KafkaSink>(o->brokers);
    } else {
      sink = std::make_unique<runtime::StdoutSink>(o->out);
    }
    std::string checkpoint_path = o->checkpoint;
    if (checkpoint_path.empty() && kafka_in) {
      std::filesystem::create_directories(".pairflow");
      checkpoint_path = fmt::format(".pairflow/{}.{}.db", name, group);
    }
    std::unique_ptr<runtime::CheckpointStore> store;
    if (checkpoint_path.starts_with("kafka:")) {
      if (o->brokers.empty()) throw UserError("--checkpoint kafka:TOPIC needs --brokers");
      store =
          std::make_unique<runtime::KafkaCheckpointStore>(o->brokers, checkpoint_path.substr(6));
    } else if (!checkpoint_path.empty())
      store = std::make_unique<runtime::SqliteCheckpointStore>(checkpoint_path);
    runtime::JobRunOptions options;
    options.job_name = name;
    options.output_topic = o->out;
    options.params_json = params_object(o->params);
    options.checkpoint_key = name + "@" + group;
    options.batch_size = o->batch;
    options.checkpoint_interval =
        std::chrono::milliseconds(static_cast<std::int64_t>(o->checkpoint_interval_s * 1000));
    options.idle_exit = std::chrono::milliseconds(static_cast<std::int64_t>(o->idle_exit_s * 1000));
    options.binary_outputs = o->codec == "binary";
    options.forbidden_outputs.insert(topics.begin(), topics.end());
    std::unique_ptr<runtime::Source> decoding;
    std::unique_ptr<runtime::Sink> encoding;
    if (o->codec == "binary") {
      decoding = std::make_unique<runtime::BinaryDecodingSource>(*source, !job->reads_binary());
      encoding = std::make_unique<runtime::BinaryEncodingSink>(*sink);
    }
    runtime::JobRunner runner(*job, decoding ? *decoding : *source, encoding ? *encoding : *sink,
                              store.get(), options);
    runtime::install_stop_signals(&runner);
    try {
      runner.run();
    } catch (const jobs::JobError& e) {
      runtime::install_stop_signals(nullptr);
      throw UserError(e.what());
    }
    runtime::install_stop_signals(nullptr);
    const std::string metrics = runner.metrics().to_json();
    std::fprintf(stderr, "job %s: %s\n", name.c_str(), metrics.c_str());
    if (!o->metrics_file.empty()) {
      std::ofstream out(o->metrics_file);
      out << metrics << '\n';
      out.close();
      if (!out) throw UserError(fmt::format("{}: write failed", o->metrics_file));
    }
  });
}

void register_kafka_mock(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "kafka-mock", "serve librdkafka's mock Kafka cluster; prints its bootstrap address first");
  auto brokers = std::make_shared<int>(1);
  auto topics = std::make_shared<std::string>();
  cmd->add_option("--brokers", *brokers, "number of brokers")->check(CLI::Range(1, 16));
  cmd->add_option("--topics", *topics, "topics to create: name[:partitions],...");
  cmd->callback([brokers, topics] {
    // Block the stop signals before any librdkafka thread starts, then wait for one.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    runtime::KafkaMockCluster cluster(*brokers, runtime::parse_topic_specs(*topics));
    std::printf("%s\n", cluster.bootstrap().c_str());
    std::fflush(stdout);
    int signal = 0;
    sigwait(&stop, &signal);
  });
}

}  // namespace pairflow::cli

namespace pairflow::cli {

void register_run(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("run", "run a pipeline file: every job in this process, or one on Kafka");
  struct Options {
    std::string file, job, brokers, group, out_dir, report, codec = "json";
    double idle_exit_s = 0;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("pipeline", o->file, "pipeline TOML")->required();
  cmd->add_option("--job", o->job, "run only this job (or 'source') against Kafka");
  cmd->add_option("--brokers", o->brokers, "Kafka bootstrap servers (with --job)");
  cmd->add_option("--group", o->group, "consumer group (default pairflow.JOB)");
  cmd->add_option("--out-dir", o->out_dir, "embedded: write every topic to DIR/<topic>.jsonl");
  cmd->add_option("--report", o->report, "write the run report JSON here");
  cmd->add_option("--idle-exit", o->idle_exit_s, "with --job: exit after this many idle seconds")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--codec", o->codec,
                  "with --job: json, or binary (binary topics, as `job run --codec binary`)")
      ->check(CLI::IsMember({"json", "binary"}));
  cmd->callback([o] {
    runtime::PipelineSpec spec = runtime::load_pipeline(o->file);
    std::string report;
    if (o->job.empty()) {
      if (!o->brokers.empty())
        throw UserError("run: --brokers needs --job NAME (one job per process on Kafka)");
      if (o->codec != "json")
        throw UserError(
            "run: --codec is for --job on Kafka (in process, messages are not encoded)");
      runtime::EmbeddedReport r = runtime::run_embedded(spec, o->out_dir);
      for (const auto& [topic, n] : r.topics)
        std::printf("%-24s %10llu messages\n", topic.c_str(), static_cast<unsigned long long>(n));
      for (const auto& [name, m] : r.jobs) {
        std::printf("job %-20s processed %llu  dead letters %llu  produced %llu\n", name.c_str(),
                    static_cast<unsigned long long>(m.processed),
                    static_cast<unsigned long long>(m.dead_lettered),
                    static_cast<unsigned long long>(m.produced));
      }
      report = r.to_json();
    } else {
      if (o->brokers.empty()) throw UserError("run: --job needs --brokers");
      runtime::JobMetrics m = runtime::run_on_kafka(spec, o->job, o->brokers, o->group,
                                                    o->idle_exit_s, o->codec == "binary");
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
