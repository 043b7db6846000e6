// VectorSource: a replayable in-memory input for tests of runners and jobs, and numbered(): small
// JSON messages with one bad payload. Single-threaded.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include "stream/transport.h"

namespace pairflow::testing_support {

// A replayable input: every poll returns the next messages; `stop_after` ends it early (a crash).
class VectorSource : public stream::Source {
 public:
  explicit VectorSource(std::vector<stream::Message> messages, std::size_t stop_after = SIZE_MAX)
      : messages_(std::move(messages)), stop_after_(stop_after) {}
  bool poll(stream::MessageBatch& out, std::size_t max, int) override {
    std::size_t n = 0;
    while (n < max && next_ < messages_.size() && next_ < stop_after_) {
      out.push_back(messages_[next_++]);
      ++n;
    }
    return next_ < messages_.size() && next_ < stop_after_;
  }
  void commit(const stream::Positions& p) override { committed = p; }
  stream::Positions committed;

 private:
  std::vector<stream::Message> messages_;
  std::size_t next_ = 0, stop_after_;
};

inline std::vector<stream::Message> numbered(int n) {
  std::vector<stream::Message> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(stream::Message{.topic = "in",
                                  .key = i % 2 ? "B" : "A",
                                  .payload = i == 3 ? "not json" : fmt::format(R"({{"i":{}}})", i),
                                  .partition = 0,
                                  .offset = i});
  }
  return out;
}

}  // namespace pairflow::testing_support
