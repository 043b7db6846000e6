// Throughput of Python jobs through the runtime (JobRunner, as `pairflow job run` drives them):
// trivial jobs that return their input with one field added, through process() per message and
// through process_batch() columns. items_per_second counts input messages (payloads decoded,
// handed to Python, outputs serialized and produced to the sink).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "counting_context.h"
#include "embed/python/python_job.h"
#include "job_runner_harness.h"
#include "model/binary_codec.h"

namespace {

namespace fs = std::filesystem;
using pairflow::stream::Job;
using pairflow::stream::Message;

using pairflow::bench::CountingContext;

std::unique_ptr<Job> load(const std::string& name, const std::string& source) {
  fs::path dir = fs::temp_directory_path() / ("pairflow_pybench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path path = dir / name;
  std::ofstream(path) << source;
  auto job = pairflow::embed::load_python_job(path.string());
  fs::remove_all(dir);
  return job;
}

std::vector<Message> ticks(std::size_t n) {
  static const char* symbols[] = {"AAPL", "MSFT", "GOOG", "AMZN", "META", "NVDA", "TSLA", "JPM"};
  std::vector<Message> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const char* sym = symbols[i % 8];
    out[i].key = sym;
    out[i].payload = "{\"ts\":" + std::to_string(1704205800000000000LL + 1000000LL * i) +
                     ",\"symbol\":\"" + sym + "\",\"price\":" + std::to_string(100 + i % 97) + "." +
                     std::to_string(10 + i % 89) + ",\"size\":" + std::to_string(100 + i % 7) + "}";
  }
  return out;
}

constexpr const char* kPerMessage = R"(
def process(msg):
    msg["seen"] = 1
    return msg
)";

constexpr const char* kBatched = R"(
def process(msg):
    msg["seen"] = 1
    return msg

def process_batch(cols):
    cols["seen"] = [1] * len(cols["price"])
    return cols
)";

constexpr const char* kBatchedNumpy = R"(
import numpy as np

def process(msg):
    msg["notional"] = msg["price"] * msg["size"]
    return msg

def process_batch(cols):
    cols["notional"] = cols["price"] * cols["size"]
    return cols
)";

// Input side only: payloads to columns to Python; nothing returned.
constexpr const char* kBatchedSink = R"(
def process(msg):
    return None

def process_batch(cols):
    return None
)";

// The same ticks in the binary codec (schema tick, 50 bytes each).
std::vector<Message> binary_ticks(std::size_t n) {
  auto batch = ticks(n);
  for (Message& m : batch)
    m.payload = *pairflow::json_to_binary(pairflow::Schema::kTick, m.payload);
  return batch;
}

// The job file `source` under a JobRunner, batches of state.range(0) messages.
void run(benchmark::State& state, const char* source, bool binary = false) {
  auto job = load("bench_job.py", source);
  const auto n = static_cast<std::size_t>(state.range(0));
  pairflow::bench::RunnerHarness harness(*job, binary ? binary_ticks(n) : ticks(n), n, binary);
  for (auto _ : state) harness.step();
  const auto& m = harness.metrics();
  if (m.dead_lettered > 0) state.SkipWithError("messages were dead-lettered");
  state.SetItemsProcessed(static_cast<std::int64_t>(m.processed));
  state.counters["out_bytes_per_msg"] =
      m.produced ? static_cast<double>(harness.sink().bytes) / static_cast<double>(m.produced) : 0;
}

// A job without process_batch(): the runner calls process() per message (one GIL acquire each).
void BM_PerMessage(benchmark::State& state) { run(state, kPerMessage); }
BENCHMARK(BM_PerMessage)->Arg(1024);

// The host alone, without the runner: process_batch() called directly on a prepared batch. The
// difference to BM_ProcessBatch is what the runtime's path costs (copies, offsets, the sink).
void host_only(benchmark::State& state, const char* source, bool binary) {
  auto job = load("bench_job.py", source);
  CountingContext ctx;
  ctx.binary = binary;
  job->setup(ctx);
  const auto n = static_cast<std::size_t>(state.range(0));
  auto batch = binary ? binary_ticks(n) : ticks(n);
  std::vector<Job::Failure> failed;
  for (auto _ : state) job->process_batch(batch, ctx, failed);
  if (!failed.empty()) state.SkipWithError(failed[0].error.c_str());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch.size()));
}
void BM_HostOnlyProcessBatch(benchmark::State& state) { host_only(state, kBatched, false); }
BENCHMARK(BM_HostOnlyProcessBatch)->Arg(8192);

// process_batch(): columns built from the payloads, one Python call per batch.
void BM_ProcessBatch(benchmark::State& state) { run(state, kBatched); }
BENCHMARK(BM_ProcessBatch)->Arg(1024)->Arg(8192);

void BM_ProcessBatchNumpy(benchmark::State& state) { run(state, kBatchedNumpy); }
BENCHMARK(BM_ProcessBatchNumpy)->Arg(1024)->Arg(8192);

void BM_ProcessBatchInputOnly(benchmark::State& state) { run(state, kBatchedSink); }
BENCHMARK(BM_ProcessBatchInputOnly)->Arg(8192);

// The binary codec both ways (`--codec binary`): binary ticks become numpy columns directly, and
// the returned columns are written as binary records for the `features.bench` topic.
constexpr const char* kBatchedOnes = R"(
import numpy as np

def process(msg):
    msg["seen"] = 1
    return msg

def process_batch(cols):
    cols["seen"] = np.ones(len(cols["price"]), dtype=np.int64)
    return cols
)";

void BM_ProcessBatchBinary(benchmark::State& state) { run(state, kBatchedOnes, true); }
void BM_HostOnlyProcessBatchBinary(benchmark::State& state) {
  host_only(state, kBatchedOnes, true);
}
BENCHMARK(BM_HostOnlyProcessBatchBinary)->Arg(8192);
BENCHMARK(BM_ProcessBatchBinary)->Arg(1024)->Arg(8192);

void BM_ProcessBatchBinaryNumpy(benchmark::State& state) { run(state, kBatchedNumpy, true); }
BENCHMARK(BM_ProcessBatchBinaryNumpy)->Arg(1024)->Arg(8192);

void BM_ProcessBatchBinaryInputOnly(benchmark::State& state) { run(state, kBatchedSink, true); }
BENCHMARK(BM_ProcessBatchBinaryInputOnly)->Arg(8192);

// The JSON job (a Python list column) on binary topics, for comparison.
void BM_ProcessBatchBinaryListColumn(benchmark::State& state) { run(state, kBatched, true); }
BENCHMARK(BM_ProcessBatchBinaryListColumn)->Arg(8192);

// Output side only, the host alone (no runner): a Python-made batch of 8192 rows serialized and
// emitted per call.
void BM_ProcessBatchOutputOnly(benchmark::State& state) {
  auto job = load("bench_job.py", R"(
import numpy as np
n = 8192
out = {"ts": np.arange(n, dtype=np.int64) + 1704205800000000000,
       "symbol": np.array(["AAPL", "MSFT"] * (n // 2), dtype=object),
       "price": np.linspace(100.0, 200.0, n), "size": np.full(n, 100, dtype=np.int64)}
def process(msg):
    return None
def process_batch(cols):
    return out
)");
  CountingContext ctx;
  std::vector<Message> one = {ticks(1)[0]};
  std::vector<Job::Failure> failed;
  for (auto _ : state) job->process_batch(one, ctx, failed);
  state.SetItemsProcessed(state.iterations() * 8192);
}
BENCHMARK(BM_ProcessBatchOutputOnly);

}  // namespace

BENCHMARK_MAIN();
