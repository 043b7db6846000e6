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

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job.h"

namespace pairflow::runtime {

// Input position: next offset to read, per partition.
using Positions = std::map<std::int32_t, std::int64_t>;

class Source {
 public:
  virtual ~Source() = default;
  // Appends up to `max` messages to `out`, waiting at most `timeout_ms` for the first. Returns
  // false when the input has ended for good (a file or stdin at EOF); a live topic never ends.
  virtual bool poll(std::vector<jobs::Message>& out, std::size_t max, int timeout_ms) = 0;
  // Makes `positions` durable as the consumer's position (Kafka: commits the group offsets).
  virtual void commit(const Positions& positions) = 0;
  // Where reading starts when a checkpoint says so (a restart); sources that cannot seek ignore it.
  virtual void seek(const Positions& positions) {}
  // False while the source cannot deliver yet (a Kafka consumer before its group assignment);
  // idle timeouts count from the moment it is ready.
  virtual bool ready() { return true; }
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
  bool poll(std::vector<jobs::Message>& out, std::size_t max, int timeout_ms) override;
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
  bool poll(std::vector<jobs::Message>& out, std::size_t max, int timeout_ms) override;
  void commit(const Positions& positions) override { inner_.commit(positions); }
  void seek(const Positions& positions) override { inner_.seek(positions); }
  bool ready() override { return inner_.ready(); }

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
};

// Keeps everything produced, for tests and in-process wiring.
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

}  // namespace pairflow::runtime
