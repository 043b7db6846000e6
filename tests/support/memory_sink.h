// MemorySink: a Sink that keeps everything produced, for tests of jobs and runners.
// Single-threaded, like the runner that writes to it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "stream/transport.h"

namespace pairflow::stream {

class MemorySink : public Sink {
 public:
  struct Record {
    std::string topic, key, payload;
  };
  void produce(std::string_view topic, std::string_view key, std::string_view payload) override {
    records.push_back({std::string(topic), std::string(key), std::string(payload)});
  }
  void flush() override {}
  std::vector<Record> records;
};

}  // namespace pairflow::stream
