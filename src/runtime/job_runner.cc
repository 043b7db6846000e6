#include "runtime/job_runner.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <csignal>
#include <cstdio>

#include "base/status.h"
#include "model/json.h"
#include "model/topics.h"

namespace pairflow::runtime {

class JobRunner::Context : public jobs::JobContext {
 public:
  Context(JobRunner& runner) : runner_(runner) {}
  void emit(std::string_view topic, std::string_view key, std::string_view json) override {
    if (!topic.empty()) check_topic(topic);
    runner_.sink_.produce(topic.empty() ? std::string_view(runner_.options_.output_topic) : topic,
                          key.empty() && current_ ? std::string_view(current_->key) : key, json);
    ++runner_.metrics_.produced;
  }
  void log(jobs::LogLevel level, std::string_view text) override {
    static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
    std::fprintf(stderr, "%s [%s] %.*s\n", runner_.options_.job_name.c_str(),
                 kNames[static_cast<int>(level)], static_cast<int>(text.size()), text.data());
  }
  void metric(std::string_view name, double value) override {
    runner_.metrics_.user[std::string(name)] += value;
  }
  const std::string& job_name() const override { return runner_.options_.job_name; }
  const std::string& output_topic() const override { return runner_.options_.output_topic; }
  const std::string& params_json() const override { return runner_.options_.params_json; }
  bool binary_outputs() const override { return runner_.options_.binary_outputs; }
  const jobs::Message* current_ = nullptr;

 private:
  // An explicit topic from a job: a valid name, and not one the pipeline reads upstream. Throws
  // JobError, so the message in hand goes to the DLQ with the reason.
  void check_topic(std::string_view topic) {
    if (topic == last_checked_) return;  // jobs emit to the same few topics over and over
    if (Status s = topics::validate_name(topic); !s) throw jobs::JobError("emit: " + s.message());
    const auto& forbidden = runner_.options_.forbidden_outputs;
    if (forbidden.count(std::string(topic))) {
      throw jobs::JobError(fmt::format(
          "emit: topic '{}' is an input of this job or of a job before it: a cycle", topic));
    }
    last_checked_.assign(topic);
  }
  std::string last_checked_;
  JobRunner& runner_;
};

std::string JobMetrics::to_json() const {
  std::string out = fmt::format(
      R"({{"consumed":{},"processed":{},"produced":{},"dead_lettered":{},"skipped":{},"checkpoints":{},"restored":{},"user":{{)",
      consumed, processed, produced, dead_lettered, skipped, checkpoints,
      restored ? "true" : "false");
  bool first = true;
  for (const auto& [name, value] : user) {
    out += fmt::format("{}{}:{}", first ? "" : ",", json_string(name), json_number(value));
    first = false;
  }
  return out + "}}";
}

JobRunner::JobRunner(jobs::Job& job, Source& source, Sink& sink, CheckpointStore* checkpoints,
                     JobRunOptions options)
    : job_(job),
      source_(source),
      sink_(sink),
      checkpoints_(checkpoints),
      options_(std::move(options)),
      dlq_topic_("dlq." + options_.job_name),
      context_(std::make_unique<Context>(*this)) {
  if (options_.checkpoint_key.empty()) options_.checkpoint_key = options_.job_name;
  if (options_.batch_size == 0) options_.batch_size = 1;
}

JobRunner::~JobRunner() = default;

void JobRunner::dead_letter(const jobs::Message& message, const std::string& error) {
  std::string payload_field;
  if (simdjson::validate_utf8(message.payload.data(), message.payload.size())) {
    payload_field = fmt::format(R"("payload":{})", json_string(message.payload));
  } else {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string b64;
    const auto& in = message.payload;
    for (std::size_t i = 0; i < in.size(); i += 3) {
      std::uint32_t chunk = static_cast<unsigned char>(in[i]) << 16;
      if (i + 1 < in.size()) chunk |= static_cast<unsigned char>(in[i + 1]) << 8;
      if (i + 2 < in.size()) chunk |= static_cast<unsigned char>(in[i + 2]);
      b64 += kAlphabet[(chunk >> 18) & 63];
      b64 += kAlphabet[(chunk >> 12) & 63];
      b64 += i + 1 < in.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
      b64 += i + 2 < in.size() ? kAlphabet[chunk & 63] : '=';
    }
    payload_field = fmt::format(R"("payload_base64":"{}")", b64);
  }
  std::string envelope =
      fmt::format(R"({{"job":{},"error":{},"topic":{},"partition":{},"offset":{},"key":{},{}}})",
                  json_string(options_.job_name), json_string(error), json_string(message.topic),
                  message.partition, message.offset, json_string(message.key), payload_field);
  sink_.produce(dlq_topic_, message.key, envelope);
  ++metrics_.dead_lettered;
}

void JobRunner::checkpoint() {
  sink_.flush();  // outputs first: a position is saved only after its outputs are delivered
  if (checkpoints_) {
    Checkpoint c;
    c.positions = positions_;
    c.state = job_.snapshot_state();
    c.sequence = ++sequence_;
    checkpoints_->save(options_.checkpoint_key, c);
  }
  source_.commit(positions_);
  ++metrics_.checkpoints;
}

void JobRunner::start() {
  job_.setup(*context_);
  if (checkpoints_) {
    if (auto saved = checkpoints_->load(options_.checkpoint_key)) {
      job_.restore_state(saved->state);
      resume_ = saved->positions;
      positions_ = saved->positions;
      sequence_ = saved->sequence;
      source_.seek(resume_);
      metrics_.restored = true;
      job_.recover(*context_);
    }
  }
  last_checkpoint_ = last_message_ = std::chrono::steady_clock::now();
}

bool JobRunner::step() {
  if (stop_.load() || input_ended_) return false;
  batch_.clear();
  const bool more = source_.poll(batch_, options_.batch_size, options_.poll_timeout_ms);
  const auto now = std::chrono::steady_clock::now();
  if (!batch_.empty() || !source_.ready()) last_message_ = now;
  metrics_.consumed += batch_.size();
  // Drop what the restored checkpoint already covers (replayed input after a restart).
  work_.clear();
  for (auto& m : batch_) {
    auto it = resume_.find(m.partition);
    if (it != resume_.end() && m.offset < it->second) {
      ++metrics_.skipped;
      continue;
    }
    work_.push_back(std::move(m));
  }
  if (!work_.empty()) {
    failures_.clear();
    if (job_.has_batch_path()) {
      context_->current_ = nullptr;
      job_.process_batch(work_, *context_, failures_);
    } else {
      for (std::size_t i = 0; i < work_.size(); ++i) {
        context_->current_ = &work_[i];
        try {
          job_.process(work_[i], *context_);
        } catch (const jobs::JobError& e) {
          failures_.push_back({i, e.what()});
        }
      }
      context_->current_ = nullptr;
    }
    for (const auto& f : failures_) dead_letter(work_[f.index], f.error);
    for (const auto& m : work_) {
      auto& next = positions_[m.partition];
      next = std::max(next, m.offset + 1);
    }
    metrics_.processed += work_.size() - failures_.size();
    dirty_ = true;
  }
  if (dirty_ && now - last_checkpoint_ >= options_.checkpoint_interval) {
    checkpoint();
    last_checkpoint_ = now;
    dirty_ = false;
  }
  if (!more) {
    input_ended_ = true;
    return false;
  }
  if (options_.idle_exit.count() > 0 && now - last_message_ >= options_.idle_exit) return false;
  return !stop_.load();
}

void JobRunner::stop() {
  if (input_ended_) job_.finish(*context_);
  checkpoint();
}

const JobMetrics& JobRunner::run() {
  start();
  while (step()) {
  }
  stop();
  return metrics_;
}

namespace {
std::atomic<JobRunner*> g_runner{nullptr};
extern "C" void on_stop_signal(int) {
  if (JobRunner* r = g_runner.load()) r->request_stop();
}
}  // namespace

void install_stop_signals(JobRunner* runner) {
  g_runner.store(runner);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace pairflow::runtime
