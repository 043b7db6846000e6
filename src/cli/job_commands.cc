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
#include "runtime/job_launch.h"
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

// The options `job run` and `run --job` share: checkpoints and the input order.
void add_launch_options(CLI::App* cmd, runtime::LaunchOptions& o, std::string& offset_reset) {
  cmd->add_option("--checkpoint", o.checkpoint,
                  "checkpoint: a SQLite FILE.db (default with Kafka input: "
                  ".pairflow/NAME.GROUP[.INSTANCE].db) or kafka:TOPIC (found from any machine)");
  cmd->add_flag("--reset-checkpoint", o.reset_checkpoint,
                "forget the saved checkpoint and start over from the start of the input topics");
  cmd->add_option("--offset-reset", offset_reset,
                  "when the checkpoint does not match the brokers (another cluster, a recreated "
                  "topic, offsets beyond the log end or deleted): fail (default), or earliest / "
                  "latest for those partitions, like Kafka's auto.offset.reset")
      ->check(CLI::IsMember({"fail", "earliest", "latest"}));
  cmd->add_option("--instance", o.instance,
                  "instance id: keys the default checkpoint file, so several instances of one "
                  "group can run in one directory");
  cmd->add_option("--max-idle", o.max_idle_ms,
                  "event-time order: ms a silent input partition may hold the others back "
                  "(default 500)")
      ->check(CLI::Range(0, 3600000));
}

void register_job(CLI::App& app) {
  auto* job_cmd = app.add_subcommand("job", "run one-file Python / R / C++ jobs");
  job_cmd->require_subcommand(1);
  auto* cmd = job_cmd->add_subcommand("run", "run a job: FILE.py, FILE.R or FILE.so");
  struct Options {
    runtime::LaunchOptions launch;
    std::string file, in, metrics_file, offset_reset = "fail", codec = "json";
    std::vector<std::string> params;
  };
  auto o = std::make_shared<Options>();
  runtime::LaunchOptions& l = o->launch;
  cmd->add_option("file", o->file, "job file")->required();
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
    runtime::LaunchOptions l = o->launch;
    if (l.name.empty()) l.name = std::filesystem::path(o->file).stem().string();
    l.inputs.clear();
    for (std::size_t start = 0; start <= o->in.size();) {
      const std::size_t comma = std::min(o->in.find(',', start), o->in.size());
      if (comma > start) l.inputs.push_back(o->in.substr(start, comma - start));
      start = comma + 1;
    }
    if (l.inputs.empty()) throw UserError(fmt::format("--in '{}': no topic named", o->in));
    l.params_json = params_object(o->params);
    l.offset_reset = runtime::parse_offset_reset(o->offset_reset);
    l.binary_codec = o->codec == "binary";
    // Topics are judged before the job file is loaded (a typo should not wait for Python or R).
    for (const std::string& t : l.inputs) {
      if (t == "-") continue;
      if (Status s = topics::validate_name(t); !s) throw UserError("--in: " + s.message());
    }
    if (l.output != "-") {
      if (Status s = topics::validate_name(l.output); !s) throw UserError("--out: " + s.message());
    }
    std::unique_ptr<jobs::Job> job;
    try {
      job = jobs::load_job(o->file);
    } catch (const jobs::JobError& e) {
      throw UserError(e.what());
    }
    if (job->needs_event_time_order()) l.event_time_order = true;
    const runtime::JobMetrics metrics = runtime::launch_job(*job, l);
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
    runtime::LaunchOptions launch;
    std::string file, job, out_dir, report, offset_reset = "fail", codec = "json";
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
  cmd->callback([o] {
    runtime::PipelineSpec spec = runtime::load_pipeline(o->file);
    std::string report;
    if (o->job.empty()) {
      if (!o->launch.brokers.empty())
        throw UserError("run: --brokers needs --job NAME (one job per process on Kafka)");
      if (o->codec != "json")
        throw UserError(
            "run: --codec is for --job on Kafka (in process, messages are not encoded)");
      if (!o->launch.checkpoint.empty() || o->launch.reset_checkpoint)
        throw UserError("run: --checkpoint and --reset-checkpoint are for --job on Kafka");
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
      if (o->launch.brokers.empty()) throw UserError("run: --job needs --brokers");
      runtime::LaunchOptions launch = o->launch;
      launch.offset_reset = runtime::parse_offset_reset(o->offset_reset);
      launch.binary_codec = o->codec == "binary";
      runtime::JobMetrics m = runtime::run_on_kafka(spec, o->job, launch);
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
