// Fault injection for the crash-safety tests: with PAIRFLOW_CRASH_AT="NAME:N" in the environment,
// the Nth call of crash_point("NAME") kills the process with SIGKILL - exactly what `kill -9` at
// that point of the code would do (no destructor, no flush). Without the variable it is one
// predictable branch. The execution service's points are listed in docs/execution.md.
// Thread-safe.
#pragma once

namespace pairflow {

void crash_point(const char* name);

}  // namespace pairflow
