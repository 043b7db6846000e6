// A JobContext for job-host benchmarks: counts outputs and their bytes, so that the runtime's side
// (transport, codec) stays out of the measurement. Single-threaded, like the jobs it serves.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "stream/job.h"

namespace pairflow::bench {

class CountingContext : public stream::JobContext {
 public:
  void emit(std::string_view, std::string_view, std::string_view json) override {
    ++emitted;
    bytes += json.size();
  }
  void log(stream::LogLevel, std::string_view) override {}
  void metric(std::string_view, double) override {}
  const std::string& job_name() const override { return name_; }
  const std::string& output_topic() const override { return topic; }
  const std::string& params_json() const override { return params; }
  bool binary_outputs() const override { return binary; }

  std::size_t emitted = 0;
  std::size_t bytes = 0;
  std::string params = "{}";
  std::string topic = "features.bench";
  bool binary = false;

 private:
  std::string name_ = "bench";
};

}  // namespace pairflow::bench
