// The options `job run` and `run --job` share (checkpoints, offset reset, instance, event-time
// merge), and --param values as a JSON object. Main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "app/job_launch.h"

namespace pairflow::cli {

void add_launch_options(CLI::App* cmd, app::LaunchOptions& o, std::string& offset_reset);
// --param k=v pairs as a JSON object; a value that is valid JSON stays JSON, anything else is a
// string. Throws UserError on a pair without '='.
std::string params_object(const std::vector<std::string>& params);

}  // namespace pairflow::cli
