// The job loader of the app layer: a C++ job as a shared library, run by the stream runtime.
#include <gtest/gtest.h>

#include "app/load_job.h"
#include "stream/job_runner.h"
#include "support/memory_sink.h"
#include "support/vector_source.h"

namespace pairflow::app {
namespace {

using stream::JobMetrics;
using stream::JobRunner;
using stream::JobRunOptions;
using stream::MemorySink;
using testing_support::numbered;
using testing_support::VectorSource;

TEST(SharedLibraryJob, LoadsRunsAndCheckpointsACppJob) {
  auto job = load_job(PAIRFLOW_EXAMPLE_JOB_SO);
  VectorSource source(numbered(4));
  MemorySink sink;
  JobRunner runner(*job, source, sink, nullptr,
                   JobRunOptions{.job_name = "count", .output_topic = "out"});
  const JobMetrics& m = runner.run();
  EXPECT_EQ(m.processed, 3u);
  EXPECT_EQ(m.dead_lettered, 1u);
  EXPECT_EQ(sink.records[1].payload, R"({"key":"B","count":1,"payload":{"i":1}})");
  EXPECT_EQ(job->snapshot_state(), R"({"A":2,"B":1})");
  job->restore_state(R"({"A":7,"Z":1})");
  EXPECT_EQ(job->snapshot_state(), R"({"A":7,"Z":1})");
  EXPECT_THROW(load_job("/no/such/job.so"), stream::JobError);
  EXPECT_THROW(load_job(PAIRFLOW_SOURCE_DIR_DEFAULT "/README.md"), stream::JobError);
}

}  // namespace
}  // namespace pairflow::app
