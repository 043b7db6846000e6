// Built-in C++ jobs, wired through topics exactly like user jobs (pipeline files name them with
// `builtin = "..."`), one file each in jobs/:
//   bars         ticks -> bars.<interval>: per-symbol time bars; params {interval = "1m"}. A late
//                or invalid tick is a dead letter with its reason; the last partial bar is emitted
//                at end of input.
//   features     ticks -> one row per closed bar with indicator columns (features/
//                feature_pipeline.h); params {bars = "1m" | "tick:N" | "volume:X" | "dollar:X",
//                indicators = "ema:10,...", lateness = "0"}. Late ticks are dead letters.
//   join         several topics -> features.joined: an event-time stream join per symbol
//                (features/stream_join.h); params {columns = {"<topic>" = ["col", ...]}, mode,
//                tolerance, lateness, idle_timeout}; the first input drives.
//   pair_router  pairs.control + bars -> pairs.bars keyed by pair id; params {control}.
//   pair_actors  pairs.bars -> pairs.signals: the engine's pair actors, pair by pair; params
//                {window, hedge = "ols" | "kalman", kalman_delta, kalman_ve}.
//   trader       ticks -> pairs.signals, pairs.control, orders (spread intents and slice marks;
//                and `out`: the run summary at the end): the engine's decisions as one job;
//                params {config = "file.toml", set = ["section.key=value", ...],
//                screener_topic = "" (each screen's candidates, for the ui job)}.
//   execution    orders + ticks (+ control) -> executions, positions, pnl, pnl.pairs,
//                control.status, control.audit (and `out`: its summary at the end): the execution
//                stage (exec/execution_stage.h) with the paper broker; params {config, set,
//                journal, audit_log, ticks = "ticks", control = "control", control_socket,
//                sigusr1 = "halt"}.
// Messages are the JSON forms of model/json.h, keyed by symbol (pair id for signals and control).
// Each job is driven by one thread (see stream/job.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "stream/job.h"

namespace pairflow::jobs {

// What the runtime knows of a built-in job before running it.
struct BuiltinJobInfo {
  std::string name;
  std::vector<std::string> params;   // the parameter keys it reads; any other key is an error
  std::vector<std::string> outputs;  // topics it writes besides its `out` topic and dlq.<name>
  std::unique_ptr<stream::Job> (*make)();
  // Params that, when set, name a further topic it writes (the trader's screener_topic).
  std::vector<std::string> output_params = {};
};
const std::vector<BuiltinJobInfo>& builtin_jobs();
// Throws stream::JobError for an unknown name, listing the known ones.
const BuiltinJobInfo& builtin_job(const std::string& name);
std::unique_ptr<stream::Job> make_builtin_job(const std::string& name);
// Throws stream::JobError naming a parameter the job does not take (a typo would otherwise be
// silently ignored) or params that are not a JSON object.
void check_builtin_params(const std::string& name, const std::string& params_json);

}  // namespace pairflow::jobs
