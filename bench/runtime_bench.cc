// Job runtime throughput: in-process topic hops through the LocalBus scheduler, and one Kafka hop
// (consume -> job -> produce, outputs delivered and offsets committed) on librdkafka's mock
// cluster.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <chrono>

#include "stream/job_runner.h"
#include "stream/kafka_transport.h"
#include "stream/local_bus.h"

namespace pairflow::stream {
namespace {

// Emits its input unchanged: measures the runtime, not the job.
class Passthrough : public stream::Job {
 public:
  void setup(stream::JobContext&) override {}
  void process(const stream::Message& m, stream::JobContext& ctx) override {
    ctx.emit("", "", m.payload);
  }
};

std::vector<std::string> payloads(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(fmt::format(R"({{"ts":{},"symbol":"S{:03d}","price":{},"size":100}})",
                              1704205800000000000LL + static_cast<long long>(i) * 1000000, i % 500,
                              100 + (i % 97) * 0.01));
  }
  return out;
}

// Messages through a chain of `hops` passthrough jobs on in-process topics; items = message-hops.
void BM_LocalBusHops(benchmark::State& state) {
  const int hops = static_cast<int>(state.range(0));
  const auto input = payloads(100'000);
  for (auto _ : state) {
    LocalBus bus;
    std::vector<std::unique_ptr<Passthrough>> job_list;
    std::vector<LocalBus::Subscription*> subs;
    std::vector<std::unique_ptr<JobRunner>> runners;
    for (int h = 0; h < hops; ++h) {
      job_list.push_back(std::make_unique<Passthrough>());
      subs.push_back(&bus.subscribe({fmt::format("t{}", h)}));
      JobRunOptions o;
      o.job_name = fmt::format("hop{}", h);
      o.output_topic = fmt::format("t{}", h + 1);
      o.poll_timeout_ms = 0;
      o.batch_size = 1024;
      runners.push_back(
          std::make_unique<JobRunner>(*job_list.back(), *subs.back(), bus, nullptr, o));
      runners.back()->start();
    }
    for (std::size_t i = 0; i < input.size(); i += 1024) {
      for (std::size_t j = i; j < std::min(input.size(), i + 1024); ++j)
        bus.produce("t0", "k", input[j]);
      for (int h = 0; h < hops; ++h) {
        while (!subs[h]->empty()) runners[h]->step();
      }
    }
    benchmark::DoNotOptimize(bus.counts());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(input.size()) * hops);
  state.SetLabel("message-hops/s");
}
BENCHMARK(BM_LocalBusHops)->Arg(1)->Arg(3)->Unit(benchmark::kMillisecond);

// One Kafka hop on the mock cluster: timed from the first consumed message (the group join before
// it is not throughput) until every output is delivered and the offsets are committed.
void BM_KafkaHop(benchmark::State& state) {
  const std::size_t n = 200'000;
  KafkaMockCluster cluster(1, {{"in", 4}, {"out", 4}});
  {
    KafkaSink producer(cluster.bootstrap());
    const auto input = payloads(n);
    for (std::size_t i = 0; i < n; ++i)
      producer.produce("in", fmt::format("S{:03d}", i % 500), input[i]);
    producer.flush();
  }
  int round = 0;
  for (auto _ : state) {
    KafkaSource source(cluster.bootstrap(), fmt::format("bench{}", round++), "in");
    KafkaSink sink(cluster.bootstrap());
    Passthrough job;
    JobRunOptions o;
    o.job_name = "hop";
    o.output_topic = "out";
    o.batch_size = 10'000;
    o.checkpoint_interval = std::chrono::milliseconds(500);
    JobRunner runner(job, source, sink, nullptr, o);
    runner.start();
    while (runner.metrics().consumed == 0) runner.step();
    const auto start = std::chrono::steady_clock::now();
    while (runner.metrics().consumed < n) runner.step();
    runner.stop();  // flush outputs, commit offsets
    const auto elapsed = std::chrono::steady_clock::now() - start;
    state.SetIterationTime(std::chrono::duration<double>(elapsed).count());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  state.SetLabel("messages/s (consume, produce, commit)");
}
BENCHMARK(BM_KafkaHop)->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pairflow::stream

BENCHMARK_MAIN();
