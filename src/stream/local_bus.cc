#include "stream/local_bus.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "base/status.h"

namespace pairflow::stream {

bool LocalBus::Subscription::poll(MessageBatch& out, std::size_t max, int) {
  for (std::size_t n = 0; n < max && !queue_.empty(); ++n) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return !(open_topics_ == 0 && queue_.empty());
}

LocalBus::LocalBus(std::string out_dir) : out_dir_(std::move(out_dir)) {
  if (!out_dir_.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir_, ec);
    if (ec) throw UserError(fmt::format("{}: cannot create: {}", out_dir_, ec.message()));
  }
}

LocalBus::~LocalBus() {
  for (auto& [topic, file] : files_) std::fclose(file);
}

LocalBus::Subscription& LocalBus::subscribe(const std::vector<std::string>& topics) {
  auto sub = std::make_unique<Subscription>();
  for (const std::string& topic : topics) {
    auto& list = subscribers_[topic];
    if (std::find(list.begin(), list.end(), sub.get()) != list.end()) continue;
    list.push_back(sub.get());
    ++sub->open_topics_;
  }
  subscriptions_.push_back(std::move(sub));
  return *subscriptions_.back();
}

void LocalBus::produce(std::string_view topic, std::string_view key, std::string_view payload) {
  std::string name(topic);
  auto subs = subscribers_.find(name);
  if (subs != subscribers_.end()) {
    for (Subscription* s : subs->second) {
      stream::Message m;
      m.topic = name;
      m.key = key;
      m.payload = payload;
      m.partition = 0;
      m.offset = s->next_offset_++;
      s->queue_.push_back(std::move(m));
    }
  }
  ++counts_[name];
  if (!out_dir_.empty()) {
    auto at = files_.find(name);
    if (at == files_.end()) {
      // Topic names are validated where they enter (model/topics.h), so this is a plain file name.
      std::string path = fmt::format("{}/{}.jsonl", out_dir_, name);
      std::FILE* opened = std::fopen(path.c_str(), "w");
      if (!opened) throw UserError(fmt::format("{}: cannot write", path));
      at = files_.emplace(name, opened).first;
    }
    std::FILE* f = at->second;
    std::fwrite(payload.data(), 1, payload.size(), f);
    std::fputc('\n', f);
  }
}

void LocalBus::flush() {
  for (auto& [topic, file] : files_) {
    if (std::fflush(file) != 0 || std::ferror(file)) {
      throw UserError(fmt::format("{}/{}.jsonl: write failed", out_dir_, topic));
    }
  }
}

void LocalBus::close(const std::string& topic) {
  auto subs = subscribers_.find(topic);
  if (subs == subscribers_.end()) return;
  if (!closed_.insert(topic).second) return;
  for (Subscription* s : subs->second) --s->open_topics_;
}

}  // namespace pairflow::stream
