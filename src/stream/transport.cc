#include "stream/transport.h"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "base/json_writer.h"
#include "base/status.h"
#include "model/binary_codec.h"
#include "model/json.h"
#include "model/topics.h"

namespace pairflow::stream {

StdinSource::StdinSource(std::string topic) : topic_(std::move(topic)) {
  std::ios::sync_with_stdio(false);
}

bool StdinSource::poll(MessageBatch& out, std::size_t max, int) {
  if (ended_) return false;
  std::size_t taken = 0;
  while (taken < max) {
    if (!std::getline(std::cin, buffer_)) {
      ended_ = true;
      return taken > 0;
    }
    ++line_;
    if (!buffer_.empty() && buffer_.back() == '\r') buffer_.pop_back();
    if (buffer_.find_first_not_of(" \t") == std::string::npos) continue;
    stream::Message& m = out.add();
    m.topic = topic_;
    m.payload = buffer_;
    m.partition = 0;
    m.offset = line_;
    ++taken;
  }
  return true;
}

void StdoutSink::produce(std::string_view topic, std::string_view key, std::string_view payload) {
  if (topic == main_topic_) {
    std::fwrite(payload.data(), 1, payload.size(), stdout);
  } else {
    std::string line;
    JsonWriter w(line);
    w.begin_object().field("topic", topic).field("key", key).raw_field("value", payload);
    w.end_object();
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  std::fputc('\n', stdout);
}

void StdoutSink::flush() {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) throw UserError("stdout: write failed");
}

bool BinaryDecodingSource::poll(MessageBatch& out, std::size_t max, int timeout_ms) {
  const std::size_t first = out.size();
  const bool more = inner_.poll(out, max, timeout_ms);
  if (!decode_) return more;
  for (std::size_t i = first; i < out.size(); ++i) {
    if (!is_binary_message(out[i].payload)) continue;
    auto json = binary_to_json(out[i].payload);
    if (json) out[i].payload = std::move(*json);
  }
  return more;
}

void BinaryEncodingSink::produce(std::string_view topic, std::string_view key,
                                 std::string_view payload) {
  if (topic.starts_with(topics::kDeadLetterPrefix)) {  // dead letters stay readable
    inner_.produce(topic, key, payload);
    return;
  }
  if (topic != cached_topic_) {  // outputs go to a few topics, mostly the same one in a row
    cached_topic_.assign(topic);
    cached_schema_ = schema_for_topic(topic);
  }
  const std::optional<Schema> schema = cached_schema_;
  if (is_binary_message(payload)) {
    auto encoded = binary_schema(payload);
    if (!encoded || *encoded != schema.value_or(Schema::kRecord)) {
      throw UserError(
          fmt::format("binary codec: a binary output to '{}' has the wrong schema", topic));
    }
    inner_.produce(topic, key, payload);
    return;
  }
  if (!schema) {
    auto record = json_to_binary(Schema::kRecord, payload);
    inner_.produce(topic, key, record ? std::string_view(*record) : payload);
    return;
  }
  auto bytes = json_to_binary(*schema, payload);
  if (!bytes) {
    throw UserError(fmt::format("binary codec: output to '{}' does not fit its schema: {}", topic,
                                bytes.status().message()));
  }
  inner_.produce(topic, key, *bytes);
}

}  // namespace pairflow::stream
