// Python job host: runs a data scientist's one-file Python job as a stream::Job.
//
// A job file defines process(msg) (required) and optionally setup(ctx), process_batch(cols) and
// recover(ctx); it talks to the runtime through the embedded module `pairflow` (emit, state, log,
// metric). docs/python_jobs.md is the user-facing contract.
//
// Lifecycle: the first load_python_job() starts one CPython interpreter for the process (Debian's
// python3 with numpy); it is never finalized, so jobs may be loaded and destroyed at any time.
// Each loaded job is its own module (its own globals and pairflow.state), so several jobs, even
// of the same file, stay isolated in one process.
//
// Threading: like every Job, one instance is driven by one thread at a time; different jobs may
// run on different threads but take turns on the GIL. The GIL is released between calls. Each
// calling thread gets one persistent Python thread state on its first call (kept until the thread
// exits), so a call costs one GIL acquire/release and not a thread-state setup.
#pragma once

#include <memory>
#include <string>

#include "stream/job.h"

namespace pairflow::embed {

// Loads FILE.py. Throws stream::JobError "FILE:LINE: problem" on syntax errors, import errors, a
// missing or non-callable process, wrong signatures or a return annotation that cannot produce
// rows ("FILE: problem" where no line applies).
std::unique_ptr<stream::Job> load_python_job(const std::string& path);

}  // namespace pairflow::embed
