// Throughput of R jobs through the runtime (JobRunner, as `pairflow job run` drives them): each
// input message is a JSON payload parsed into an R list, handed to the job's process(), and its
// result serialized back to JSON and produced to the sink. items_per_second counts input
// messages. R starts once per process (first benchmark).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "embed/r/r_job.h"
#include "job_runner_harness.h"

namespace {

namespace fs = std::filesystem;
using pairflow::stream::Job;
using pairflow::stream::Message;

// examples/jobs/NAME from the repository: $PAIRFLOW_SOURCE_DIR, else next to this file.
std::string example(const std::string& name) {
  const char* root = std::getenv("PAIRFLOW_SOURCE_DIR");
  const fs::path dir = root ? fs::path(root) : fs::path(__FILE__).parent_path().parent_path();
  return (dir / "examples" / "jobs" / name).string();
}

std::unique_ptr<Job> load_source(const std::string& name, const std::string& code) {
  const fs::path dir = fs::temp_directory_path() / ("pairflow_rbench_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path path = dir / name;
  std::ofstream(path) << code;
  auto job = pairflow::embed::load_r_job(path.string());
  fs::remove_all(dir);
  return job;
}

// A bar as the runtime publishes it (model/json.cc).
Message bar(const char* symbol, std::int64_t minute, double close) {
  Message m;
  m.topic = "bars";
  m.key = symbol;
  m.payload = R"({"ts":)" + std::to_string(1704205800000000000 + minute * 60000000000) +
              R"(,"symbol":")" + symbol + R"(","open":)" + std::to_string(close - 0.05) +
              R"(,"high":)" + std::to_string(close + 0.1) + R"(,"low":)" +
              std::to_string(close - 0.1) + R"(,"close":)" + std::to_string(close) +
              R"(,"volume":12500,"vwap":)" + std::to_string(close + 0.01) + R"(,"count":57})";
  return m;
}

std::vector<Message> bars(std::size_t n) {
  std::vector<Message> out;
  for (std::size_t i = 0; i < n; ++i) {
    const double wobble = 0.3 * static_cast<double>((i * 7919) % 13) / 13.0;
    out.push_back(bar(i % 2 ? "BBB" : "AAA", static_cast<std::int64_t>(i / 2),
                      (i % 2 ? 50.0 : 100.0) + wobble));
  }
  return out;
}

// `job` under a JobRunner over 1000 bars, 100 per batch (the runner's per-message path).
void run(benchmark::State& state, Job& job, const std::string& params = "{}") {
  pairflow::bench::RunnerHarness harness(job, bars(1000), 100, false, params);
  for (auto _ : state) harness.step();
  const auto& m = harness.metrics();
  if (m.dead_lettered > 0) state.SkipWithError("messages were dead-lettered");
  state.SetItemsProcessed(static_cast<std::int64_t>(m.processed));
  state.counters["outputs"] = benchmark::Counter(static_cast<double>(m.produced));
}

// The job of the host's headline number: return the input with one field added.
void BM_RAddField(benchmark::State& state) {
  auto job = load_source("add_field.R", "process <- function(msg) { msg$seen <- TRUE; msg }\n");
  run(state, *job);
}
BENCHMARK(BM_RAddField);

// examples/jobs/passthrough.R: the host's round trip without R-side work.
void BM_RPassthrough(benchmark::State& state) {
  auto job = pairflow::embed::load_r_job(example("passthrough.R"));
  run(state, *job);
}
BENCHMARK(BM_RPassthrough);

// Input side only: parse, build the list, call R; nothing comes back.
void BM_RReturnNull(benchmark::State& state) {
  auto job = load_source("null.R", "process <- function(msg) NULL\n");
  run(state, *job);
}
BENCHMARK(BM_RReturnNull);

// examples/jobs/spread_zscore.R over two symbols' bars (state updates, a 60-bar window).
void BM_RSpreadZscoreExample(benchmark::State& state) {
  auto job = pairflow::embed::load_r_job(example("spread_zscore.R"));
  run(state, *job, R"({"y":"AAA","x":"BBB","hedge_ratio":1.9,"window":60})");
}
BENCHMARK(BM_RSpreadZscoreExample);

}  // namespace

BENCHMARK_MAIN();
