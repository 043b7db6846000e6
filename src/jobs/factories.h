// The factories of the built-in jobs, one per file (bars_job.cc, ...); the registry
// (builtin_jobs.h) lists them with their parameters and output topics. Internal to jobs/.
#pragma once

#include <memory>

#include "stream/job.h"

namespace pairflow::jobs {

std::unique_ptr<stream::Job> make_bars_job();
std::unique_ptr<stream::Job> make_features_job();
std::unique_ptr<stream::Job> make_join_job();
std::unique_ptr<stream::Job> make_pair_router_job();
std::unique_ptr<stream::Job> make_pair_actors_job();
std::unique_ptr<stream::Job> make_trader_job();
std::unique_ptr<stream::Job> make_execution_job();
std::unique_ptr<stream::Job> make_ui_job();
std::unique_ptr<stream::Job> make_history_job();
std::unique_ptr<stream::Job> make_influx_job();

}  // namespace pairflow::jobs
