#include "jobs/builtin_jobs.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>

#include "jobs/factories.h"
#include "model/topics.h"

namespace pairflow::jobs {

const std::vector<BuiltinJobInfo>& builtin_jobs() {
  static const std::vector<BuiltinJobInfo> kJobs = {
      {"bars", {"interval", "warmup", "history", "warmup_topic"}, {}, make_bars_job},
      {"features",
       {"bars", "indicators", "lateness", "warmup", "history", "warmup_topic"},
       {},
       make_features_job},
      {"join", {"columns", "mode", "tolerance", "lateness", "idle_timeout"}, {}, make_join_job},
      {"pair_router", {"control"}, {}, make_pair_router_job},
      {"pair_actors",
       {"window", "hedge", "kalman_delta", "kalman_ve", "warmup", "history", "warmup_topic"},
       {},
       make_pair_actors_job},
      {"trader",
       {"config", "set", "warmup", "history", "warmup_topic", "screener_topic"},
       {std::string(topics::kSignals), std::string(topics::kPairsControl),
        std::string(topics::kOrders)},
       make_trader_job,
       {"screener_topic"}},
      {"execution",
       {"config", "set", "journal", "audit_log", "ticks", "control", "control_socket", "sigusr1"},
       {std::string(topics::kExecutions), std::string(topics::kPositions),
        std::string(topics::kPnl), std::string(topics::kPairPnl),
        std::string(topics::kControlStatus), std::string(topics::kAudit)},
       make_execution_job},
      // The dashboard from the topics; its output (e.g. `control`) carries kill switch commands.
      {"ui",
       {"config", "set", "port", "bind", "ui_info", "status_topic", "screener_topic"},
       {},
       make_ui_job},
      // Sinks: the input topics into a SQLite history file, or as line protocol to a server.
      {"history",
       {"db", "retention", "batch_rows", "max_string", "full_sync", "background_commit", "topics"},
       {},
       make_history_job},
      {"influx",
       {"url", "token", "batch_points", "batch_interval", "gzip", "spool", "spool_max_mb",
        "timeout", "max_backoff"},
       {},
       make_influx_job},
  };
  return kJobs;
}

const BuiltinJobInfo& builtin_job(const std::string& name) {
  std::string names;
  for (const BuiltinJobInfo& info : builtin_jobs()) {
    if (info.name == name) return info;
    names += (names.empty() ? "" : ", ") + info.name;
  }
  throw stream::JobError(fmt::format("unknown builtin job '{}' (builtins: {})", name, names));
}

std::unique_ptr<stream::Job> make_builtin_job(const std::string& name) {
  return builtin_job(name).make();
}

void check_builtin_params(const std::string& name, const std::string& params_json) {
  const BuiltinJobInfo& info = builtin_job(name);
  simdjson::dom::parser parser;
  simdjson::dom::object params;
  if (parser.parse(params_json).get_object().get(params))
    throw stream::JobError(fmt::format("{}: params are not a JSON object", name));
  for (auto [key, value] : params) {
    if (std::find(info.params.begin(), info.params.end(), key) == info.params.end()) {
      std::string known;
      for (const std::string& k : info.params) known += (known.empty() ? "" : ", ") + k;
      throw stream::JobError(
          fmt::format("{}: unknown parameter '{}' (it takes: {})", name, key, known));
    }
  }
}

}  // namespace pairflow::jobs
