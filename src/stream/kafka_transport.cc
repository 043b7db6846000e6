#include "stream/kafka_transport.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>

#include "base/status.h"
#include "model/event_time.h"
#include "model/topics.h"

namespace pairflow::stream {

struct DeliveryState {
  std::uint64_t failed = 0;
  std::string first_error;
};

namespace {

rd_kafka_conf_t* make_conf(const std::vector<std::pair<const char*, std::string>>& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw UserError(fmt::format("kafka: {}={}: {}", key, value, error));
    }
  }
  return conf;
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  auto* state = static_cast<DeliveryState*>(opaque);
  if (state->failed++ == 0) {
    state->first_error = fmt::format("delivery to {} failed: {}", rd_kafka_topic_name(message->rkt),
                                     rd_kafka_err2str(message->err));
  }
}

void on_log(const rd_kafka_t*, int level, const char* facility, const char* text) {
  if (level <= 4) std::fprintf(stderr, "pairflow: kafka %s: %s\n", facility, text);
}

}  // namespace

KafkaSink::KafkaSink(const std::string& brokers,
                     const std::vector<std::pair<const char*, std::string>>& settings)
    : delivery_(std::make_shared<DeliveryState>()) {
  std::vector<std::pair<const char*, std::string>> all = {
      {"bootstrap.servers", brokers},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"queue.buffering.max.messages", "1000000"}};
  all.insert(all.end(), settings.begin(), settings.end());
  rd_kafka_conf_t* conf = make_conf(all);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, delivery_.get());
  rd_kafka_conf_set_log_cb(conf, on_log);
  char error[512];
  producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (!producer_) {
    rd_kafka_conf_destroy(conf);
    throw UserError(fmt::format("kafka: cannot create producer: {}", error));
  }
}

KafkaSink::~KafkaSink() {
  if (producer_) {
    rd_kafka_flush(producer_, 10'000);
    rd_kafka_destroy(producer_);
  }
}

void KafkaSink::produce(std::string_view topic, std::string_view key, std::string_view payload) {
  if (topic != last_topic_) {  // most outputs go to the topic of the one before
    if (!known_topics_.count(topic)) require_topics({std::string(topic)});
    last_topic_.assign(topic);
  }
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(std::string(topic).c_str()),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer_, 50);  // backpressure: wait for deliveries, never drop
      continue;
    }
    throw UserError(fmt::format("kafka: produce to {} failed: {}", topic, rd_kafka_err2str(err)));
  }
  rd_kafka_poll(producer_, 0);
}

void KafkaSink::produce_tombstone(std::string_view topic, std::string_view key) {
  const std::string name(topic);
  rd_kafka_resp_err_t err = rd_kafka_producev(
      producer_, RD_KAFKA_V_TOPIC(name.c_str()),
      RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()), RD_KAFKA_V_VALUE(nullptr, 0),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  if (err)
    throw UserError(fmt::format("kafka: produce to {} failed: {}", topic, rd_kafka_err2str(err)));
}

void KafkaSink::require_topics(const std::vector<std::string>& topics) {
  std::vector<std::string> unknown;
  for (const auto& t : topics) {
    if (!known_topics_.count(t)) unknown.push_back(t);
  }
  if (unknown.empty()) return;
  // All topics' metadata: asking for one topic by name would let the brokers auto-create it.
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(producer_, 1, nullptr, &metadata, 10'000);
  if (err) {
    throw UserError(
        fmt::format("kafka: cannot list the cluster's topics: {}", rd_kafka_err2str(err)));
  }
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (!metadata->topics[i].err) known_topics_.insert(metadata->topics[i].topic);
  }
  rd_kafka_metadata_destroy(metadata);
  for (const auto& t : unknown) {
    if (!known_topics_.count(t)) {
      throw UserError(fmt::format(
          "kafka: topic '{}' does not exist on the brokers (create it first; pairflow does not "
          "create topics, so that a typo cannot become a topic nobody reads)",
          t));
    }
  }
}

void KafkaSink::flush() {
  while (rd_kafka_outq_len(producer_) > 0) {
    rd_kafka_resp_err_t err = rd_kafka_flush(producer_, 30'000);
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      throw UserError(
          fmt::format("kafka: {} messages not delivered after 30 s", rd_kafka_outq_len(producer_)));
    }
  }
  if (delivery_->failed > 0) {
    throw UserError(fmt::format("kafka: {} messages could not be delivered; first: {}",
                                delivery_->failed, delivery_->first_error));
  }
}

// Event-time order: one partition's messages not yet handed out, and since when it has had none.
struct KafkaSource::Buffer {
  std::deque<stream::Message> queue;
  std::chrono::steady_clock::time_point empty_since = std::chrono::steady_clock::now();
  bool paused = false;
  bool at_end = false;  // the client read to the partition's end (nothing more to fetch now)
};

namespace {
constexpr std::size_t kMaxBuffered = 20000;  // per partition, before it is paused
}  // namespace

KafkaSource::KafkaSource(const std::string& brokers, const std::string& group,
                         const std::vector<std::string>& topics, Options options)
    : brokers_(brokers), topics_(topics), options_(options) {
  if (topics.empty() || topics.size() > 1000)
    throw UserError("kafka: a job reads 1 to 1000 topics");
  rd_kafka_conf_t* conf =
      make_conf({{"bootstrap.servers", brokers},
                 {"group.id", group},
                 {"enable.auto.commit", "false"},
                 {"auto.offset.reset", "earliest"},
                 {"session.timeout.ms", "6000"},
                 {"heartbeat.interval.ms", "500"},
                 {"partition.assignment.strategy", "range,roundrobin"},
                 // The event-time merge must know when a partition is read
                 // to its end: only then may its silence let others pass.
                 {"enable.partition.eof", options.event_time_order ? "true" : "false"}});
  rd_kafka_conf_set_log_cb(conf, on_log);
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_rebalance_cb(
      conf, [](rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
               void* opaque) { on_rebalance(rk, err, parts, opaque); });
  char error[512];
  consumer_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (!consumer_) {
    rd_kafka_conf_destroy(conf);
    throw UserError(fmt::format("kafka: cannot create consumer: {}", error));
  }
  rd_kafka_poll_set_consumer(consumer_);
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& topic : topics) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) {
    throw UserError(
        fmt::format("kafka: subscribe to {}: {}", fmt::join(topics, ","), rd_kafka_err2str(err)));
  }
}

KafkaSource::~KafkaSource() {
  if (reader_) rd_kafka_destroy(reader_);
  if (consumer_) {
    rd_kafka_consumer_close(consumer_);
    rd_kafka_destroy(consumer_);
  }
}

std::int32_t KafkaSource::encode(const char* topic, std::int32_t partition) const {
  if (topics_.size() == 1) return partition;
  const auto at = std::find(topics_.begin(), topics_.end(), topic);
  return static_cast<std::int32_t>(at - topics_.begin()) * kTopicStride + partition;
}

// Runs inside rd_kafka_consumer_poll() on this thread (eager assignment protocol).
void KafkaSource::on_rebalance(rd_kafka_s* rk, int err, void* partitions, void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  auto* parts = static_cast<rd_kafka_topic_partition_list_t*>(partitions);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int i = 0; i < parts->cnt; ++i) {
      const std::int32_t id = self->encode(parts->elems[i].topic, parts->elems[i].partition);
      if (auto at = self->seek_.find(id); at != self->seek_.end()) {
        parts->elems[i].offset = at->second;  // a checkpoint's position, not the group's
        self->seek_.erase(at);
      } else if (self->rewind_) {
        parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
      }
      const auto& oob = self->options_.out_of_band;
      if (self->options_.event_time_order &&
          std::find(oob.begin(), oob.end(), parts->elems[i].topic) == oob.end())
        self->buffers_[id] = std::make_unique<Buffer>();
    }
    rd_kafka_assign(rk, parts);
    self->assigned_ = parts->cnt > 0;
    if (self->assigned_) self->rewind_ = false;
  } else {
    // Revoked: what is buffered belongs to the next owner, who reads it from the committed offset.
    self->buffers_.clear();
    rd_kafka_assign(rk, nullptr);
    self->assigned_ = false;
  }
}

void KafkaSource::seek(const Positions& positions) {
  for (const auto& [id, offset] : positions) seek_[id] = offset;
}

void KafkaSource::fill(stream::Message& msg, const void* message) {
  const auto* m = static_cast<const rd_kafka_message_t*>(message);
  msg.topic = rd_kafka_topic_name(m->rkt);
  if (m->key) msg.key.assign(static_cast<const char*>(m->key), m->key_len);
  if (m->payload) msg.payload.assign(static_cast<const char*>(m->payload), m->len);
  msg.partition = encode(msg.topic.c_str(), m->partition);
  msg.offset = m->offset;
  rd_kafka_timestamp_type_t type;
  const std::int64_t ms = rd_kafka_message_timestamp(m, &type);
  msg.ts = ms >= 0 ? ms * 1'000'000 : 0;
  msg.log_time_ms = ms >= 0 ? ms : 0;
}

bool KafkaSource::poll(MessageBatch& out, std::size_t max, int timeout_ms) {
  if (options_.event_time_order) return poll_ordered(out, max, timeout_ms);
  for (std::size_t taken = 0; taken < max;) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_, taken == 0 ? timeout_ms : 0);
    if (!m) break;
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::fprintf(stderr, "pairflow: kafka consumer: %s\n", rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    fill(out.add(), m);
    rd_kafka_message_destroy(m);
    ++taken;
  }
  return true;
}

bool KafkaSource::poll_ordered(MessageBatch& out, std::size_t max, int timeout_ms) {
  // Take what the client has (waiting up to timeout_ms only when nothing is buffered).
  bool any = std::any_of(buffers_.begin(), buffers_.end(),
                         [](const auto& b) { return !b.second->queue.empty(); });
  for (std::size_t read = 0; read < 2 * max; ++read) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_, !any && read == 0 ? timeout_ms : 0);
    if (!m) break;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->rkt) {
      auto at = buffers_.find(encode(rd_kafka_topic_name(m->rkt), m->partition));
      if (at != buffers_.end()) at->second->at_end = true;
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->err) {
      std::fprintf(stderr, "pairflow: kafka consumer: %s\n", rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
      continue;
    }
    stream::Message msg;
    fill(msg, m);
    rd_kafka_message_destroy(m);
    if (auto ts = event_time_of(msg.payload)) msg.ts = *ts;
    if (std::find(options_.out_of_band.begin(), options_.out_of_band.end(), msg.topic) !=
        options_.out_of_band.end()) {
      out.push_back(std::move(msg));
      continue;
    }
    auto at = buffers_.find(msg.partition);
    if (at == buffers_.end()) continue;  // revoked meanwhile: the next owner reads it
    Buffer& b = *at->second;
    b.at_end = false;
    b.queue.push_back(std::move(msg));
    any = true;
    if (!b.paused && b.queue.size() >= kMaxBuffered) {  // far ahead of the others: wait for them
      rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
      rd_kafka_topic_partition_list_add(list, b.queue.back().topic.c_str(),
                                        b.queue.back().partition % kTopicStride);
      rd_kafka_pause_partitions(consumer_, list);
      rd_kafka_topic_partition_list_destroy(list);
      b.paused = true;
    }
  }
  // Hand out the smallest event time while every partition has something buffered, or has been
  // read to its end and silent for max_idle_ms. A partition the client has not read to its end
  // (just assigned, or a fetch in flight) always holds the others back: its next message may be
  // the oldest.
  const auto now = std::chrono::steady_clock::now();
  const auto idle = std::chrono::milliseconds(options_.max_idle_ms);
  while (out.size() < max) {
    Buffer* next = nullptr;
    bool blocked = false;
    for (auto& [id, buffer] : buffers_) {
      Buffer& b = *buffer;
      if (b.queue.empty()) {
        if (!b.at_end || now - b.empty_since < idle) blocked = true;
        continue;
      }
      if (!next || b.queue.front().ts < next->queue.front().ts) next = &b;
    }
    if (!next || blocked) break;
    out.push_back(std::move(next->queue.front()));
    next->queue.pop_front();
    if (next->queue.empty()) next->empty_since = now;
    if (next->paused && next->queue.size() < kMaxBuffered / 2) {
      rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
      rd_kafka_topic_partition_list_add(list, out.back().topic.c_str(),
                                        out.back().partition % kTopicStride);
      rd_kafka_resume_partitions(consumer_, list);
      rd_kafka_topic_partition_list_destroy(list);
      next->paused = false;
    }
  }
  return true;
}

void KafkaSource::commit(const Positions& positions) {
  if (positions.empty()) return;
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(positions.size()));
  for (const auto& [partition, next] : positions) {
    const auto topic = static_cast<std::size_t>(partition / kTopicStride);
    if (topic >= topics_.size()) continue;
    rd_kafka_topic_partition_list_add(list, topics_[topic].c_str(), partition % kTopicStride)
        ->offset = next;
  }
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer_, list, 0);
  rd_kafka_topic_partition_list_destroy(list);
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    // After a rebalance the partitions may belong to another instance now: it re-reads from the
    // last committed offset, which is the documented at-least-once window.
    std::fprintf(stderr, "pairflow: kafka commit: %s\n", rd_kafka_err2str(err));
  }
}

bool KafkaSource::ready() { return assigned_; }  // set by the rebalance callback inside poll()

std::string KafkaSource::cluster_id() {
  char* id = rd_kafka_clusterid(consumer_, 10'000);
  if (!id) throw UserError(fmt::format("kafka: {}: the cluster did not tell its id", brokers_));
  std::string out(id);
  rd_kafka_mem_free(consumer_, id);
  return out;
}

std::optional<LogPartition> KafkaSource::describe_partition(std::int32_t id, bool cached) {
  const auto topic_index = static_cast<std::size_t>(id / kTopicStride);
  if (id < 0 || topic_index >= topics_.size()) return std::nullopt;
  LogPartition log{topics_[topic_index], id % kTopicStride};
  if (cached) {
    if (rd_kafka_get_watermark_offsets(consumer_, log.topic.c_str(), log.partition, &log.log_start,
                                       &log.log_end) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log.log_start = log.log_end = -1;
    }
    return log;
  }
  const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      consumer_, log.topic.c_str(), log.partition, &log.log_start, &log.log_end, 10'000);
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
      err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
    return std::nullopt;
  }
  if (err) {
    throw UserError(fmt::format("kafka: {}[{}]: cannot read its offsets: {}", log.topic,
                                log.partition, rd_kafka_err2str(err)));
  }
  return log;
}

std::optional<std::uint32_t> KafkaSource::fingerprint_at(std::int32_t id, std::int64_t offset) {
  const auto topic_index = static_cast<std::size_t>(id / kTopicStride);
  if (id < 0 || topic_index >= topics_.size()) return std::nullopt;
  if (!reader_) {  // a plain consumer of its own: the group's assignment stays untouched
    rd_kafka_conf_t* conf = make_conf({{"bootstrap.servers", brokers_},
                                       {"group.id", "pairflow.fingerprint-reader"},
                                       {"enable.auto.commit", "false"},
                                       {"enable.partition.eof", "true"}});
    rd_kafka_conf_set_log_cb(conf, on_log);
    char error[512];
    reader_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (!reader_) {
      rd_kafka_conf_destroy(conf);
      throw UserError(fmt::format("kafka: cannot create a reader: {}", error));
    }
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topics_[topic_index].c_str(), id % kTopicStride)->offset =
      offset;
  rd_kafka_assign(reader_, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::optional<std::uint32_t> result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(reader_, 200);
    if (!m) continue;
    const bool found = !m->err && m->offset == offset;
    const bool done = found || m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
                      m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE || m->offset > offset;
    if (found) {
      rd_kafka_timestamp_type_t type;
      const std::int64_t ms = rd_kafka_message_timestamp(m, &type);
      result = fingerprint(
          std::string_view(static_cast<const char*>(m->key), m->key ? m->key_len : 0),
          std::string_view(static_cast<const char*>(m->payload), m->payload ? m->len : 0),
          ms >= 0 ? ms : 0);
    }
    rd_kafka_message_destroy(m);
    if (done) break;
  }
  rd_kafka_assign(reader_, nullptr);
  return result;
}

KafkaCheckpointStore::KafkaCheckpointStore(const std::string& brokers, const std::string& topic)
    // A job's state is one message. Compressed (JSON state shrinks several-fold), and past
    // librdkafka's 1 MB default on the client; the broker's limit (max.message.bytes of the
    // topic) then applies to the compressed size.
    : brokers_(brokers),
      topic_(topic),
      producer_(brokers, {{"compression.type", "zstd"}, {"message.max.bytes", "100000000"}}) {}

namespace {
// Manifest: "PFPARTS <sequence> <parts>\n" then the last part. Part: "<sequence>\n" then bytes.
constexpr std::string_view kManifest = "PFPARTS ";
}  // namespace

void KafkaCheckpointStore::reset(const std::string& key) {
  producer_.produce_tombstone(topic_, key);
  producer_.flush();
}

std::string KafkaCheckpointStore::part_key(const std::string& key, std::uint64_t slot,
                                           std::size_t part) {
  return fmt::format("{}\x1fpart{}.{}", key, slot, part);
}

void KafkaCheckpointStore::save(const std::string& key, const Checkpoint& checkpoint) {
  const std::string text = checkpoint_to_json(checkpoint);
  if (text.size() <= kMaxPart) {
    producer_.produce(topic_, key, text);
  } else {
    const std::size_t parts = (text.size() + kMaxPart - 1) / kMaxPart;
    const std::uint64_t seq = checkpoint.sequence;
    for (std::size_t i = 0; i + 1 < parts; ++i) {
      producer_.produce(topic_, part_key(key, seq % 2, i),
                        fmt::format("{}\n", seq) + text.substr(i * kMaxPart, kMaxPart));
    }
    producer_.flush();  // every part delivered before the manifest that makes them count
    producer_.produce(
        topic_, key,
        fmt::format("{}{} {}\n", kManifest, seq, parts) + text.substr((parts - 1) * kMaxPart));
  }
  producer_.flush();  // durable (acks=all) before the runner commits the offsets
}

void read_topic(
    const std::string& brokers, const std::string& topic, const std::string& what,
    const std::function<void(std::string_view key, const std::string_view* payload)>& each) {
  rd_kafka_conf_t* conf = make_conf({{"bootstrap.servers", brokers},
                                     {"group.id", "pairflow.topic-reader"},
                                     {"enable.auto.commit", "false"},
                                     {"enable.partition.eof", "true"}});
  rd_kafka_conf_set_log_cb(conf, on_log);
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    throw UserError(fmt::format("kafka: {} reader: {}", what, error));
  }
  std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> guard(rk, [](rd_kafka_t* h) {
    rd_kafka_consumer_close(h);
    rd_kafka_destroy(h);
  });
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle, &metadata, 10'000);
  rd_kafka_topic_destroy(handle);
  if (err || !metadata || metadata->topic_cnt != 1 || metadata->topics[0].err) {
    if (metadata) rd_kafka_metadata_destroy(metadata);
    throw UserError(fmt::format("kafka: {} topic '{}' is not available (create it)", what, topic));
  }
  const int partitions = metadata->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(metadata);
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  std::map<std::int32_t, std::int64_t> high;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t lo = 0, hi = 0;
    err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, 10'000);
    if (err) {
      rd_kafka_topic_partition_list_destroy(assignment);
      throw UserError(fmt::format("kafka: {} topic '{}': {}", what, topic, rd_kafka_err2str(err)));
    }
    if (hi > lo) {
      high[p] = hi;
      rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = lo;
    }
  }
  if (!high.empty()) rd_kafka_assign(rk, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  while (!high.empty()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 10'000);
    if (!m) throw UserError(fmt::format("kafka: timed out reading {} topic '{}'", what, topic));
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> message(
        m, rd_kafka_message_destroy);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      high.erase(m->partition);
      continue;
    }
    if (m->err) continue;
    if (m->offset + 1 >= high[m->partition]) high.erase(m->partition);
    if (!m->key) continue;
    const std::string_view message_key(static_cast<const char*>(m->key), m->key_len);
    const std::string_view payload(static_cast<const char*>(m->payload), m->payload ? m->len : 0);
    each(message_key, m->payload ? &payload : nullptr);
  }
}

std::optional<Checkpoint> KafkaCheckpointStore::load(const std::string& key) {
  std::optional<Checkpoint> latest;
  struct Manifest {
    std::uint64_t sequence = 0;
    std::size_t parts = 0;
    std::string last;
  };
  std::optional<Manifest> manifest;
  std::map<std::pair<std::uint64_t, std::size_t>, std::pair<std::uint64_t, std::string>>
      parts;  // (slot, part) -> (sequence, bytes), the latest of each
  const std::string part_prefix = key + "\x1fpart";
  auto corrupt = [&](std::string_view what) {
    return UserError(
        fmt::format("kafka: checkpoint topic '{}': {} of '{}' is corrupt", topic_, what, key));
  };
  read_topic(
      brokers_, topic_, "checkpoint",
      [&](std::string_view message_key, const std::string_view* value) {
        const std::string_view payload = value ? *value : std::string_view();
        if (!value && message_key == key) {  // a reset (--reset-checkpoint): nothing before counts
          latest.reset();
          manifest.reset();
          return;
        }
        if (message_key.starts_with(part_prefix)) {  // "<key>\x1fpart<slot>.<part>"
          std::uint64_t slot = 0, seq = 0;
          std::size_t part = 0;
          const std::string_view rest = message_key.substr(part_prefix.size());
          const std::size_t dot = rest.find('.'), newline = payload.find('\n');
          if (dot == std::string_view::npos || newline == std::string_view::npos ||
              std::from_chars(rest.data(), rest.data() + dot, slot).ec != std::errc() ||
              std::from_chars(rest.data() + dot + 1, rest.data() + rest.size(), part).ec !=
                  std::errc() ||
              std::from_chars(payload.data(), payload.data() + newline, seq).ec != std::errc()) {
            throw corrupt("a part");
          }
          auto& held = parts[{slot, part}];
          if (held.second.empty() || seq >= held.first) {
            held = {seq, std::string(payload.substr(newline + 1))};
          }
          return;
        }
        if (message_key != key) return;
        if (payload.starts_with(kManifest)) {
          Manifest man;
          const std::size_t space = payload.find(' ', kManifest.size());
          const std::size_t newline = payload.find('\n');
          if (space == std::string_view::npos || newline == std::string_view::npos ||
              space > newline ||
              std::from_chars(payload.data() + kManifest.size(), payload.data() + space,
                              man.sequence)
                      .ec != std::errc() ||
              std::from_chars(payload.data() + space + 1, payload.data() + newline, man.parts).ec !=
                  std::errc()) {
            throw corrupt("the manifest");
          }
          man.last = std::string(payload.substr(newline + 1));
          if (!manifest || man.sequence >= manifest->sequence) manifest = std::move(man);
          return;
        }
        Checkpoint c = checkpoint_from_json(payload);
        if (!latest || c.sequence >= latest->sequence) latest = std::move(c);
      });
  if (manifest && (!latest || manifest->sequence > latest->sequence)) {
    std::string text;
    for (std::size_t i = 0; i + 1 < manifest->parts; ++i) {
      auto it = parts.find({manifest->sequence % 2, i});
      if (it == parts.end() || it->second.first != manifest->sequence) {
        throw corrupt(fmt::format("checkpoint {} (part {} of {} is missing)", manifest->sequence,
                                  i + 1, manifest->parts));
      }
      text += it->second.second;
    }
    text += manifest->last;
    latest = checkpoint_from_json(text);
  }
  return latest;
}

std::vector<TopicSpec> parse_topic_specs(const std::string& text) {
  std::vector<TopicSpec> specs;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) {
      TopicSpec spec;
      std::size_t colon = item.find(':');
      spec.name = item.substr(0, colon);
      if (colon != std::string::npos) {
        std::string count = item.substr(colon + 1);
        auto [ptr, ec] =
            std::from_chars(count.data(), count.data() + count.size(), spec.partitions);
        if (ec != std::errc() || ptr != count.data() + count.size() || spec.partitions < 1 ||
            spec.partitions > 1000) {
          throw UserError(
              fmt::format("--topics: '{}': partitions must be a number in [1, 1000]", item));
        }
      }
      if (Status s = topics::validate_name(spec.name); !s)
        throw UserError(fmt::format("--topics: '{}': {}", item, s.message()));
      specs.push_back(spec);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return specs;
}

KafkaMockCluster::KafkaMockCluster(int brokers, const std::vector<TopicSpec>& topics) {
  if (brokers < 1 || brokers > 16) throw UserError("kafka-mock: --brokers must be in [1, 16]");
  rd_kafka_conf_t* conf = make_conf({});
  rd_kafka_conf_set_log_cb(conf, on_log);
  char error[512];
  handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (!handle_) {
    rd_kafka_conf_destroy(conf);
    throw UserError(fmt::format("kafka-mock: {}", error));
  }
  cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
  if (!cluster_) throw UserError("kafka-mock: cannot start the mock cluster");
  for (const TopicSpec& t : topics) {
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, t.name.c_str(), t.partitions, 1);
    if (err)
      throw UserError(fmt::format("kafka-mock: create {}: {}", t.name, rd_kafka_err2str(err)));
  }
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
}

KafkaMockCluster::~KafkaMockCluster() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_) rd_kafka_destroy(handle_);
}

}  // namespace pairflow::stream
