// Transports: where a job's input comes from (Source) and where its outputs go (Sink).
//
// Implementations: JSON lines on stdin/stdout (StdinSource, StdoutSink), Kafka through librdkafka
// (KafkaSource, KafkaSink in kafka_transport.h), and in-memory sinks for tests. The JobRunner pulls
// batches from a Source, hands them to the job, produces outputs to a Sink, and only after
// Sink::flush() has confirmed delivery does it save a checkpoint and Source::commit() the input
// position: at-least-once, nothing lost.
//
// Threading: a Source and a Sink belong to one JobRunner thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/binary_codec.h"
#include "stream/job.h"

namespace pairflow::stream {

// Input position: next offset to read, per partition.
using Positions = std::map<std::int32_t, std::int64_t>;

// The messages of one poll. Slots are reused from poll to poll and a cleared slot keeps the
// capacity of its strings, so a source that fills slots (add(), or push_back of a copy) does not
// allocate per message once the batch has warmed up. Owned by one runner thread.
class MessageBatch {
 public:
  // A slot at the end with every field reset (strings empty, capacity kept).
  stream::Message& add() {
    if (size_ == slots_.size()) slots_.emplace_back();
    stream::Message& m = slots_[size_++];
    m.topic.clear();
    m.key.clear();
    m.payload.clear();
    m.ts = 0;
    m.log_time_ms = 0;
    m.partition = -1;
    m.offset = -1;
    return m;
  }
  void push_back(const stream::Message& m) { add() = m; }
  void push_back(stream::Message&& m) { add() = std::move(m); }
  void clear() { size_ = 0; }
  // Keeps the first n messages.
  void truncate(std::size_t n) { size_ = std::min(n, size_); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  stream::Message& operator[](std::size_t i) { return slots_[i]; }
  const stream::Message& operator[](std::size_t i) const { return slots_[i]; }
  stream::Message& back() { return slots_[size_ - 1]; }
  stream::Message* begin() { return slots_.data(); }
  stream::Message* end() { return slots_.data() + size_; }
  const stream::Message* begin() const { return slots_.data(); }
  const stream::Message* end() const { return slots_.data() + size_; }
  std::span<const stream::Message> span() const { return {slots_.data(), size_}; }

 private:
  std::vector<stream::Message> slots_;
  std::size_t size_ = 0;
};

// One partition of a log (a Kafka topic partition) behind a source: for checkpoint validation.
struct LogPartition {
  std::string topic;
  std::int32_t partition = 0;  // within `topic`
  std::int64_t log_start = -1, log_end = -1;
};

// A message's identity in its log: CRC-32 of its key, payload and log time (never 0, which means
// "none").
std::uint32_t fingerprint(std::string_view key, std::string_view payload, std::int64_t log_time_ms);

class Source {
 public:
  virtual ~Source() = default;
  // Appends up to `max` messages to `out`, waiting at most `timeout_ms` for the first. Returns
  // false when the input has ended for good (a file or stdin at EOF); a live topic never ends.
  virtual bool poll(MessageBatch& out, std::size_t max, int timeout_ms) = 0;
  // Makes `positions` durable as the consumer's position (Kafka: commits the group offsets).
  virtual void commit(const Positions& positions) = 0;
  // Where reading starts when a checkpoint says so (a restart); sources that cannot seek ignore it.
  virtual void seek(const Positions& positions) {}
  // False while the source cannot deliver yet (a Kafka consumer before its group assignment);
  // idle timeouts count from the moment it is ready.
  virtual bool ready() { return true; }
  // Messages waiting to be read, where the source knows without asking anyone (an in-process
  // topic's queue); nullopt otherwise. A Kafka consumer's lag comes from the partitions instead.
  virtual std::optional<std::int64_t> backlog() const { return std::nullopt; }

  // The log behind the source, so that a checkpoint can be checked against it on restart. Sources
  // that are not a log (stdin, files, in-process topics) keep these defaults: no cluster id.
  virtual std::string cluster_id() { return ""; }
  // Input partition `partition` (the runner's number) and its start / end offsets; nullopt when
  // the log has no such partition (a deleted topic). `cached` allows the client's last known
  // offsets instead of asking the brokers. Throws UserError when the brokers cannot be asked.
  virtual std::optional<LogPartition> describe_partition(std::int32_t partition, bool cached) {
    return std::nullopt;
  }
  // fingerprint() of the message at `offset`, or nullopt when there is none to read.
  virtual std::optional<std::uint32_t> fingerprint_at(std::int32_t partition, std::int64_t offset) {
    return std::nullopt;
  }
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void produce(std::string_view topic, std::string_view key, std::string_view payload) = 0;
  // Blocks until every produced message is delivered; throws UserError when delivery failed.
  virtual void flush() = 0;
};

// JSON lines on stdin; offsets are line numbers (partition 0). Non-empty lines only.
class StdinSource : public Source {
 public:
  explicit StdinSource(std::string topic);
  bool poll(MessageBatch& out, std::size_t max, int timeout_ms) override;
  void commit(const Positions&) override {}

 private:
  std::string topic_;
  std::int64_t line_ = 0;
  std::string buffer_;
  bool ended_ = false;
};

// Writes each payload as one line on stdout; with `with_topic`, lines are
// {"topic":..,"key":..,"value":..} for messages to topics other than `main_topic`.
class StdoutSink : public Sink {
 public:
  explicit StdoutSink(std::string main_topic) : main_topic_(std::move(main_topic)) {}
  void produce(std::string_view topic, std::string_view key, std::string_view payload) override;
  void flush() override;

 private:
  std::string main_topic_;
};

// The binary codec on a transport (model/binary_codec.h): input payloads in the binary form are
// decoded to JSON before the job sees them, unless the job reads binary itself (anything else
// passes through, so a bad payload still reaches the job and its dead-letter path). Outputs to
// topics with a fixed schema are encoded in it, and a JSON output that does not fit is a UserError
// (a job bug, not bad input); outputs to other topics become records when they are flat objects
// and stay JSON otherwise; dead letters (`dlq.*`) stay JSON. Outputs a job already encoded pass
// through after a check of their schema byte.
class BinaryDecodingSource : public Source {
 public:
  explicit BinaryDecodingSource(Source& inner, bool decode = true)
      : inner_(inner), decode_(decode) {}
  bool poll(MessageBatch& out, std::size_t max, int timeout_ms) override;
  void commit(const Positions& positions) override { inner_.commit(positions); }
  void seek(const Positions& positions) override { inner_.seek(positions); }
  bool ready() override { return inner_.ready(); }
  std::string cluster_id() override { return inner_.cluster_id(); }
  std::optional<LogPartition> describe_partition(std::int32_t partition, bool cached) override {
    return inner_.describe_partition(partition, cached);
  }
  std::optional<std::uint32_t> fingerprint_at(std::int32_t partition,
                                              std::int64_t offset) override {
    return inner_.fingerprint_at(partition, offset);
  }

 private:
  Source& inner_;
  bool decode_;
};

class BinaryEncodingSink : public Sink {
 public:
  explicit BinaryEncodingSink(Sink& inner) : inner_(inner) {}
  void produce(std::string_view topic, std::string_view key, std::string_view payload) override;
  void flush() override { inner_.flush(); }

 private:
  Sink& inner_;
  std::string cached_topic_;
  std::optional<Schema> cached_schema_;
};

}  // namespace pairflow::stream
