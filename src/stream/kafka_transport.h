// Kafka transport through librdkafka: a consumer-group Source and an idempotent-producer Sink.
//
// Guarantee (at-least-once, nothing lost): the runner commits a group offset only after every
// output of the messages before it has been acknowledged by the brokers (Sink::flush). A crash
// after outputs were delivered but before the commit makes the next owner of the partition
// process those messages again, so duplicates are possible exactly for the messages consumed since
// the last checkpoint; no message is skipped. The idempotent producer removes duplicates caused by
// producer retries. Keys are passed through, so a symbol or pair id always lands in the same
// partition of an output topic.
//
// Lifecycle: construct (throws UserError when the client cannot be created), use from one thread,
// destroy (closes the consumer, leaving the group cleanly). KafkaMockCluster wraps librdkafka's
// in-process mock cluster for tests and for `pairflow kafka-mock`.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "stream/checkpoint.h"
#include "stream/transport.h"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace pairflow::stream {

// Reads one topic, or several (a multi-input job such as the join). With several topics a message's
// `partition` is topic_index * kTopicStride + partition, so positions and checkpoints stay one
// number per input partition; `topic` is the real topic name.
//
// Event-time order (Options::event_time_order): a job that needs one order across keys (the
// trader) gets its input partitions merged by event time, as Kafka Streams does: each partition is
// buffered, the message with the smallest event time goes first, and a partition with nothing
// buffered holds the others back until the client has read it to its end and it has been silent
// for `max_idle_ms` (then it is skipped until its next message; anything it later delivers older
// than what went out is late, and the job judges it). Event time is the payload's `ts` (binary
// schemas and JSON, integer ns or ISO-8601), else the Kafka timestamp; ties go to the lower
// partition. Buffers are bounded: a partition far ahead is paused at the client until the others
// catch up.
// Topics in `out_of_band` skip the merge: their messages go out as soon as they are read.
struct KafkaSourceOptions {
  bool event_time_order = false;
  int max_idle_ms = 500;
  std::vector<std::string> out_of_band;
};

class KafkaSource : public Source {
 public:
  static constexpr std::int32_t kTopicStride = 1 << 20;
  using Options = KafkaSourceOptions;
  KafkaSource(const std::string& brokers, const std::string& group, const std::string& topic)
      : KafkaSource(brokers, group, std::vector<std::string>{topic}) {}
  KafkaSource(const std::string& brokers, const std::string& group,
              const std::vector<std::string>& topics, Options options = {});
  ~KafkaSource() override;
  bool poll(MessageBatch& out, std::size_t max, int timeout_ms) override;
  void commit(const Positions& positions) override;
  // Partitions in `positions` start there when they are next assigned (a checkpoint's positions,
  // or a reset), instead of at the group's committed offset.
  void seek(const Positions& positions) override;
  // Partitions of the first assignment start at the log start, not at the group's committed
  // offsets (a job started over with --reset-checkpoint); seek() positions still win.
  void rewind() { rewind_ = true; }
  bool ready() override;
  std::string cluster_id() override;
  std::optional<LogPartition> describe_partition(std::int32_t partition, bool cached) override;
  std::optional<std::uint32_t> fingerprint_at(std::int32_t partition, std::int64_t offset) override;

 private:
  struct Buffer;
  static void on_rebalance(rd_kafka_s* rk, int err, void* partitions, void* opaque);
  std::int32_t encode(const char* topic, std::int32_t partition) const;
  void fill(stream::Message& msg, const void* message);
  bool poll_ordered(MessageBatch& out, std::size_t max, int timeout_ms);

  rd_kafka_s* consumer_ = nullptr;
  rd_kafka_s* reader_ = nullptr;  // fingerprint_at(): a group-less consumer, made when needed
  std::string brokers_;
  bool assigned_ = false;
  std::vector<std::string> topics_;
  Options options_;
  Positions seek_;
  bool rewind_ = false;
  std::map<std::int32_t, std::unique_ptr<Buffer>> buffers_;  // event-time order: assigned ones
};

// Writes only to topics that exist: a topic is looked up in the cluster's metadata the first time
// it is written, and a missing one is a UserError naming it (brokers that auto-create topics would
// otherwise turn a typo in --out into a new topic nobody reads).
class KafkaSink : public Sink {
 public:
  // `settings`: librdkafka producer properties on top of pairflow's (idempotent, acks=all).
  explicit KafkaSink(const std::string& brokers,
                     const std::vector<std::pair<const char*, std::string>>& settings = {});
  ~KafkaSink() override;
  void produce(std::string_view topic, std::string_view key, std::string_view payload) override;
  void flush() override;
  // Throws UserError naming the first topic of `topics` that the cluster does not have.
  void require_topics(const std::vector<std::string>& topics);
  // A message with a null value: on a compacted topic it deletes `key`.
  void produce_tombstone(std::string_view topic, std::string_view key);

 private:
  rd_kafka_s* producer_ = nullptr;
  std::shared_ptr<struct DeliveryState> delivery_;
  std::set<std::string, std::less<>> known_topics_;
  std::string last_topic_;
};

// Checkpoints as messages on a Kafka topic (keyed by checkpoint key, one message per save, so the
// latest one wins), readable from any machine: an instance restarted elsewhere resumes its state.
// load() reads the topic from the beginning to its high watermark. The topic must exist.
//
// A checkpoint larger than kMaxPart (a job with a large state) is cut into parts, so that no
// message exceeds a broker's default limit of 1 MB: the parts go under keys part_key(key, slot, i)
// with slot = sequence % 2, then a manifest under `key`. A save that dies midway leaves the
// previous checkpoint whole (its parts are in the other slot; its manifest is replaced only at
// the end), and the layout survives log compaction, which keeps the latest message per key.
class KafkaCheckpointStore : public CheckpointStore {
 public:
  static constexpr std::size_t kMaxPart = 900 * 1024;
  KafkaCheckpointStore(const std::string& brokers, const std::string& topic);
  std::optional<Checkpoint> load(const std::string& key) override;
  void save(const std::string& key, const Checkpoint& checkpoint) override;
  void reset(const std::string& key) override;
  std::string describe() const override { return "kafka topic " + topic_; }
  static std::string part_key(const std::string& key, std::uint64_t slot, std::size_t part);

 private:
  std::string brokers_, topic_;
  KafkaSink producer_;
};

// Reads every partition of `topic` from its log start to its high watermark at the call, handing
// each keyed message to `each` (payload nullptr: a tombstone); messages without a key are skipped.
// For state kept on (compacted) topics: checkpoints, the execution job's order journal. Throws
// UserError naming `what` and the topic when it is missing or cannot be read.
void read_topic(
    const std::string& brokers, const std::string& topic, const std::string& what,
    const std::function<void(std::string_view key, const std::string_view* payload)>& each);

struct TopicSpec {
  std::string name;
  int partitions = 1;
};
// "ticks:8,orders:4,signals" -> specs (partitions default to 1). Throws UserError.
std::vector<TopicSpec> parse_topic_specs(const std::string& text);

class KafkaMockCluster {
 public:
  KafkaMockCluster(int brokers, const std::vector<TopicSpec>& topics);
  ~KafkaMockCluster();
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  rd_kafka_s* handle_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_;
};

}  // namespace pairflow::stream
