#include "cli/launch_options.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "base/json_writer.h"
#include "base/status.h"

namespace pairflow::cli {

std::string params_object(const std::vector<std::string>& params) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  simdjson::dom::parser parser;
  for (const std::string& p : params) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UserError(fmt::format("--param '{}': expected key=value", p));
    const std::string key = p.substr(0, eq), value = p.substr(eq + 1);
    simdjson::dom::element element;
    const bool is_json = !value.empty() && !parser.parse(value).get(element);
    if (is_json) {
      w.raw_field(key, value);
    } else {
      w.field(key, value);
    }
  }
  w.end_object();
  return out;
}

void add_launch_options(CLI::App* cmd, app::LaunchOptions& o, std::string& offset_reset) {
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
  cmd->add_option("--health-port", o.health_port,
                  "serve /healthz, /readyz and /metrics over HTTP on this port (0 = any free one; "
                  "default none): readiness once the checkpoint is restored and the partitions "
                  "are assigned, false while draining after SIGTERM")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--health-bind", o.health_bind, "address of the health port (default 0.0.0.0)");
  cmd->add_option("--health-stall", o.health_stall_s,
                  "seconds without a turn of the job loop before /healthz fails (default 120)")
      ->check(CLI::Range(1.0, 86400.0));
  cmd->add_option("--max-idle", o.max_idle_ms,
                  "event-time order: ms a silent input partition may hold the others back "
                  "(default 500)")
      ->check(CLI::Range(0, 3600000));
  cmd->add_option("--status-topic", o.status_topic,
                  "publish the job's status (counters, state) to this topic every checkpoint "
                  "interval and at the end: the ui job's jobs panel (a pipeline file's "
                  "status_topic sets it for every --job)");
}

}  // namespace pairflow::cli
