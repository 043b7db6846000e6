// LocalBus: in-memory topics for the embedded placement, and the scheduler that runs a pipeline's
// jobs on one thread.
//
// Each subscription is a FIFO queue; producing to a topic appends to every subscriber's queue (in
// subscription order) and to an optional JSON-lines file per topic. Topics nobody reads are not
// dropped silently: they are counted, and written when an output directory is given. The
// scheduler pumps one batch from the source, then steps every job whose queue is non-empty until
// all queues are empty, so memory stays bounded by a batch's fan-out (backpressure by
// construction) and the order of everything is deterministic. At end of input the jobs are closed
// in pipeline order, each finish()ing before its consumers see end of input.
// Single-threaded.
#pragma once

#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "stream/job_runner.h"
#include "stream/transport.h"

namespace pairflow::stream {

class LocalBus : public Sink {
 public:
  class Subscription : public Source {
   public:
    bool poll(MessageBatch& out, std::size_t max, int) override;
    void commit(const Positions&) override {}
    bool empty() const { return queue_.empty(); }
    std::optional<std::int64_t> backlog() const override {
      return static_cast<std::int64_t>(queue_.size());
    }

   private:
    friend class LocalBus;
    std::deque<stream::Message> queue_;
    std::int64_t next_offset_ = 0;
    std::size_t open_topics_ = 0;  // closed when every topic it reads is closed
  };

  // Writes every topic to DIR/<topic>.jsonl when `dir` is not empty.
  explicit LocalBus(std::string out_dir = "");
  ~LocalBus() override;

  // One queue fed by every topic in `topics` (in production order across them).
  Subscription& subscribe(const std::vector<std::string>& topics);
  void produce(std::string_view topic, std::string_view key, std::string_view payload) override;
  void flush() override;
  // Ends the topic for its subscribers once their queues drain.
  void close(const std::string& topic);
  const std::map<std::string, std::uint64_t>& counts() const { return counts_; }

 private:
  std::string out_dir_;
  std::map<std::string, std::vector<Subscription*>> subscribers_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
  std::map<std::string, std::uint64_t> counts_;
  std::map<std::string, std::FILE*> files_;
  std::set<std::string> closed_;
};

}  // namespace pairflow::stream
