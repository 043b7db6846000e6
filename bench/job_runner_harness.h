// The real runtime path for job-host benchmarks: a JobRunner between a Source that replays a
// prepared batch forever (fresh offsets each time) and a Sink that counts what arrives. The job
// sees exactly what `pairflow job run` gives it (batches of the runner's size, process() or
// process_batch() as the runner decides, the binary codec wrappers with --codec binary), so the
// figures are the ones users get, minus the network. Single-threaded.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stream/job.h"
#include "stream/job_runner.h"
#include "stream/transport.h"

namespace pairflow::bench {

class ReplaySource : public stream::Source {
 public:
  explicit ReplaySource(std::vector<stream::Message> messages) : messages_(std::move(messages)) {}
  bool poll(stream::MessageBatch& out, std::size_t max, int) override {
    for (std::size_t n = 0; n < max; ++n) {
      stream::Message& m = out.add();
      m = messages_[next_ % messages_.size()];  // copy-assign: the slot's buffers are reused
      m.partition = 0;
      m.offset = next_++;
    }
    return true;
  }
  void commit(const stream::Positions&) override {}

 private:
  std::vector<stream::Message> messages_;
  std::int64_t next_ = 0;
};

class CountingSink : public stream::Sink {
 public:
  void produce(std::string_view, std::string_view, std::string_view payload) override {
    ++produced;
    bytes += payload.size();
  }
  void flush() override {}
  std::size_t produced = 0, bytes = 0;
};

// A JobRunner over `messages` in batches of `batch`; step() processes one batch.
class RunnerHarness {
 public:
  RunnerHarness(stream::Job& job, std::vector<stream::Message> messages, std::size_t batch,
                bool binary_codec = false, std::string params_json = "{}")
      : source_(std::move(messages)), decoding_(source_, !job.reads_binary()), encoding_(sink_) {
    stream::JobRunOptions options;
    options.job_name = "bench";
    options.output_topic = "features.bench";
    options.params_json = std::move(params_json);
    options.batch_size = batch;
    options.poll_timeout_ms = 0;
    options.checkpoint_interval = std::chrono::hours(1);
    options.binary_outputs = binary_codec;
    runner_ = std::make_unique<stream::JobRunner>(
        job, binary_codec ? static_cast<stream::Source&>(decoding_) : source_,
        binary_codec ? static_cast<stream::Sink&>(encoding_) : sink_, nullptr, options);
    runner_->start();
  }
  void step() { runner_->step(); }
  const stream::JobMetrics& metrics() const { return runner_->metrics(); }
  const CountingSink& sink() const { return sink_; }

 private:
  ReplaySource source_;
  CountingSink sink_;
  stream::BinaryDecodingSource decoding_;
  stream::BinaryEncodingSink encoding_;
  std::unique_ptr<stream::JobRunner> runner_;
};

}  // namespace pairflow::bench
