// R job host: runs a data scientist's one-file R job (setup / process / recover functions) as a
// pairflow stream::Job. See docs/r_jobs.md for the contract and the JSON <-> R type mapping.
//
// Lifecycle: the first load_r_job() starts the process's single embedded R (RInside; R cannot be
// restarted, so it lives until exit). Each loaded file is evaluated in its own environment, so
// several R jobs can share the process without seeing each other's variables. The Job then
// follows stream::Job: setup, [restore_state, recover], process..., snapshot_state.
//
// Threading: R is single-threaded. The thread that makes the first load_r_job() call owns R; every
// later load and every call on any R job must come from that same thread, otherwise it throws
// stream::JobError (destroying an R job elsewhere is allowed: its R objects are released later, by
// the owner thread). Run all R jobs of a process on one worker.
#pragma once

#include <memory>
#include <string>

#include "stream/job.h"

namespace pairflow::embed {

// Loads FILE.R. Throws stream::JobError "FILE:LINE: problem" for syntax errors and errors while
// evaluating the file, and "FILE: problem" when it cannot be read, has no process() function, or
// defines setup / process / recover as something other than a function.
std::unique_ptr<stream::Job> load_r_job(const std::string& path);

}  // namespace pairflow::embed
