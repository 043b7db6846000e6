// load_job(): a job file in the host its extension names: .py (Python host), .R (R host), .so (a
// C or C++ job with the ABI of stream/pairflow_job.h, loaded with dlopen). Called at start-up on
// the launching thread; the job is then driven by one runner thread (stream/job.h).
#pragma once

#include <memory>
#include <string>

#include "stream/job.h"

namespace pairflow::app {

// Throws stream::JobError naming the file (and line, for syntax errors) when it cannot be loaded.
std::unique_ptr<stream::Job> load_job(const std::string& path);

}  // namespace pairflow::app
