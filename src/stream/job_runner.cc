#include "stream/job_runner.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <csignal>
#include <cstdio>

#include "base/json_writer.h"
#include "base/status.h"
#include "model/json.h"
#include "model/topics.h"

namespace pairflow::stream {

class JobRunner::Context : public stream::JobContext {
 public:
  Context(JobRunner& runner) : runner_(runner) {}
  void emit(std::string_view topic, std::string_view key, std::string_view json) override {
    if (!topic.empty()) check_topic(topic);
    runner_.sink_.produce(topic.empty() ? std::string_view(runner_.options_.output_topic) : topic,
                          key.empty() && current_ ? std::string_view(current_->key) : key, json);
    ++runner_.metrics_.produced;
  }
  void log(stream::LogLevel level, std::string_view text) override {
    static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
    std::fprintf(stderr, "%s [%s] %.*s\n", runner_.options_.job_name.c_str(),
                 kNames[static_cast<int>(level)], static_cast<int>(text.size()), text.data());
  }
  void metric(std::string_view name, double value) override {
    runner_.metrics_.user[std::string(name)] += value;
  }
  void gauge(std::string_view name, double value) override {
    runner_.metrics_.user[std::string(name)] = value;
  }
  bool stop_requested() const override { return runner_.stop_.load(); }
  const std::string& job_name() const override { return runner_.options_.job_name; }
  const std::string& output_topic() const override { return runner_.options_.output_topic; }
  const std::string& params_json() const override { return runner_.options_.params_json; }
  const std::string& brokers() const override { return runner_.options_.brokers; }
  bool binary_outputs() const override { return runner_.options_.binary_outputs; }
  const stream::Message* current_ = nullptr;

 private:
  // An explicit topic from a job: a valid name, and not one the pipeline reads upstream. Throws
  // JobError, so the message in hand goes to the DLQ with the reason.
  void check_topic(std::string_view topic) {
    if (topic == last_checked_) return;  // jobs emit to the same few topics over and over
    if (Status s = topics::validate_name(topic); !s) throw stream::JobError("emit: " + s.message());
    const auto& forbidden = runner_.options_.forbidden_outputs;
    if (forbidden.count(std::string(topic))) {
      throw stream::JobError(fmt::format(
          "emit: topic '{}' is an input of this job or of a job before it: a cycle", topic));
    }
    last_checked_.assign(topic);
  }
  std::string last_checked_;
  JobRunner& runner_;
};

std::string JobMetrics::to_json() const {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("consumed", consumed).field("processed", processed);
  w.field("produced", produced).field("dead_lettered", dead_lettered).field("skipped", skipped);
  w.field("checkpoints", checkpoints).field("restored", restored).key("user").begin_object();
  for (const auto& [name, value] : user) w.field(name, value);
  w.end_object().end_object();
  return out;
}

JobRunner::JobRunner(stream::Job& job, Source& source, Sink& sink, CheckpointStore* checkpoints,
                     JobRunOptions options)
    : job_(job),
      source_(source),
      sink_(sink),
      checkpoints_(checkpoints),
      options_(std::move(options)),
      dlq_topic_(topics::dead_letter_topic(options_.job_name)),
      context_(std::make_unique<Context>(*this)) {
  if (options_.checkpoint_key.empty()) options_.checkpoint_key = options_.job_name;
  if (options_.batch_size == 0) options_.batch_size = 1;
}

JobRunner::~JobRunner() = default;

namespace {
std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t chunk = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) chunk |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) chunk |= static_cast<unsigned char>(in[i + 2]);
    b64 += kAlphabet[(chunk >> 18) & 63];
    b64 += kAlphabet[(chunk >> 12) & 63];
    b64 += i + 1 < in.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    b64 += i + 2 < in.size() ? kAlphabet[chunk & 63] : '=';
  }
  return b64;
}
}  // namespace

void JobRunner::dead_letter(const stream::Message& message, const std::string& error) {
  std::string envelope;
  JsonWriter w(envelope);
  w.begin_object().field("job", options_.job_name).field("error", error);
  w.field("topic", message.topic).field("partition", message.partition);
  w.field("offset", message.offset).field("key", message.key);
  // The original bytes: as a string when they are UTF-8, else in base64.
  if (simdjson::validate_utf8(message.payload.data(), message.payload.size())) {
    w.field("payload", message.payload);
  } else {
    w.field("payload_base64", base64(message.payload));
  }
  w.end_object();
  sink_.produce(dlq_topic_, message.key, envelope);
  ++metrics_.dead_lettered;
}

void JobRunner::checkpoint() {
  try {
    job_.sync(*context_);
  } catch (const JobError& e) {
    throw UserError(
        fmt::format("job {}: {} (input position not committed)", options_.job_name, e.what()));
  }
  sink_.flush();  // outputs first: a position is saved only after its outputs are delivered
  if (checkpoints_) {
    Checkpoint c;
    c.positions = positions_;
    c.state = job_.snapshot_state();
    c.sequence = ++sequence_;
    if (!cluster_.empty()) {
      c.origin.cluster = cluster_;
      for (const auto& [id, next] : positions_) {
        PartitionOrigin o;
        if (auto log = source_.describe_partition(id, true)) {
          o.topic = log->topic;
          o.partition = log->partition;
          o.log_start = log->log_start;
          o.log_end = log->log_end;
        }
        if (auto seen = last_seen_.find(id);
            seen != last_seen_.end() && seen->second.first == next - 1) {
          o.last_offset = seen->second.first;
          o.last_fingerprint = seen->second.second;
        }
        c.origin.partitions[id] = std::move(o);
      }
    }
    checkpoints_->save(options_.checkpoint_key, c);
  }
  source_.commit(positions_);
  ++metrics_.checkpoints;
}

void JobRunner::start() {
  if (options_.crash_guard) {
    guard_ = options_.crash_guard;
    suspects_ = guard_->left_behind();
    if (suspects_) {
      log_line(fmt::format(
          "the previous run died while processing {} (recorded in {}); processing {} one at a "
          "time",
          suspects_->single ? "one message" : "a batch", guard_->path(),
          suspects_->single ? "it" : "those messages"));
    }
  }
  cluster_ = source_.cluster_id();
  job_.setup(*context_);
  if (checkpoints_) restore(checkpoints_->load(options_.checkpoint_key));
  last_checkpoint_ = last_message_ = std::chrono::steady_clock::now();
  if (JobHealth* h = options_.health) {
    h->started.store(true);
    h->beat();
  }
}

void JobRunner::report_health() {
  JobHealth* h = options_.health;
  if (!h) return;
  h->beat();
  h->assigned.store(source_.ready());
  h->consumed.store(metrics_.consumed, std::memory_order_relaxed);
  h->processed.store(metrics_.processed, std::memory_order_relaxed);
  h->produced.store(metrics_.produced, std::memory_order_relaxed);
  h->dead_lettered.store(metrics_.dead_lettered, std::memory_order_relaxed);
  h->checkpoints.store(metrics_.checkpoints, std::memory_order_relaxed);
}

void JobRunner::publish_status(const char* state) {
  if (options_.status_topic.empty()) return;
  std::string out;
  JsonWriter w(out);
  const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  w.begin_object().field("job", options_.job_name).field("instance", options_.checkpoint_key);
  w.field("ts", static_cast<std::int64_t>(wall)).field("state", state);
  w.field("interval_ms", static_cast<std::int64_t>(options_.checkpoint_interval.count()));
  if (!cluster_.empty()) {
    // Consumer lag: messages in the log after this job's position, over the partitions it has
    // read (the client's cached high watermarks: no round trip to the brokers).
    std::int64_t lag = 0;
    for (const auto& [id, next] : positions_) {
      if (auto log = source_.describe_partition(id, true); log && log->log_end >= 0)
        lag += std::max<std::int64_t>(0, log->log_end - next);
    }
    w.field("lag", lag);
  } else if (auto queued = source_.backlog()) {
    w.field("lag", *queued);
  }
  w.key("metrics").raw(metrics_.to_json()).end_object();
  sink_.produce(options_.status_topic, options_.checkpoint_key, out);
}

void JobRunner::log_line(const std::string& text) {
  context_->log(stream::LogLevel::kWarning, text);
}

void JobRunner::restore(std::optional<Checkpoint> saved) {
  if (!saved) return;
  bool keep_state = true;
  const std::vector<OriginMismatch> mismatches = check_origin(*saved, source_);
  if (!mismatches.empty()) {
    std::string problems;
    for (const auto& m : mismatches) problems += (problems.empty() ? "" : "; ") + m.what;
    if (options_.offset_reset == OffsetReset::kFail) {
      throw UserError(fmt::format(
          "checkpoint '{}' in {} does not match the brokers: {}. Start over with "
          "--reset-checkpoint, or pass --offset-reset earliest|latest to follow Kafka's "
          "auto.offset.reset",
          options_.checkpoint_key, checkpoints_->describe(), problems));
    }
    const bool earliest = options_.offset_reset == OffsetReset::kEarliest;
    for (const auto& m : mismatches) {
      if (m.partition_gone) {
        saved->positions.erase(m.partition);
      } else {
        saved->positions[m.partition] = earliest ? m.log_start : m.log_end;
      }
      // The state was computed from a log that is gone: it cannot continue on this one.
      if (m.log_replaced) keep_state = false;
    }
    log_line(fmt::format(
        "checkpoint '{}' does not match the brokers ({}); --offset-reset {}: "
        "those partitions start at their {}{}",
        options_.checkpoint_key, problems, earliest ? "earliest" : "latest",
        earliest ? "log start" : "log end", keep_state ? "" : ", and the job state is discarded"));
  }
  if (keep_state) job_.restore_state(saved->state);
  resume_ = saved->positions;
  positions_ = saved->positions;
  sequence_ = saved->sequence;
  source_.seek(resume_);
  metrics_.restored = true;
  job_.recover(*context_);
}

// Whether `m` was in hand when the previous run died.
bool JobRunner::suspect(const stream::Message& m) const {
  for (const auto& r : suspects_->ranges) {
    if (r.partition == m.partition && m.offset >= r.first && m.offset <= r.last) return true;
  }
  return false;
}

void JobRunner::process(std::span<const stream::Message> work) {
  if (job_.has_batch_path()) {
    context_->current_ = nullptr;
    job_.process_batch(work, *context_, failures_);
    return;
  }
  for (std::size_t i = 0; i < work.size(); ++i) {
    context_->current_ = &work[i];
    try {
      job_.process(work[i], *context_);
    } catch (const stream::JobError& e) {
      failures_.push_back({i, e.what()});
    }
  }
  context_->current_ = nullptr;
}

// A batch holding messages of a crashed run: one message at a time, each marked in the guard with
// its attempt count; one that has killed the process max_crash_attempts times is dead-lettered.
void JobRunner::process_suspects(std::span<const stream::Message> work) {
  for (std::size_t i = 0; i < work.size(); ++i) {
    const stream::Message& m = work[i];
    int crashes = 0;
    if (suspects_->single && suspects_->ranges.front().partition == m.partition &&
        suspects_->ranges.front().first == m.offset) {
      crashes = suspects_->attempts;
    }
    if (crashes >= options_.max_crash_attempts) {
      failures_.push_back(
          {i, fmt::format("the job crashed {} times on this message (the process died: a crash in "
                          "native code, an abort or the out-of-memory killer); dead-lettered so "
                          "the partition moves on",
                          crashes)});
      continue;
    }
    record_.ranges.assign(1, {m.partition, m.offset, m.offset});
    record_.single = true;
    record_.attempts = suspect(m) ? crashes + 1 : 1;
    guard_->mark(record_);
    const std::size_t before = failures_.size();
    process(work.subspan(i, 1));
    for (std::size_t f = before; f < failures_.size(); ++f) failures_[f].index += i;
  }
}

bool JobRunner::step() {
  if (stop_.load() || input_ended_) return false;
  batch_.clear();
  const bool more = source_.poll(batch_, options_.batch_size, options_.poll_timeout_ms);
  const auto now = std::chrono::steady_clock::now();
  if (!batch_.empty() || !source_.ready()) last_message_ = now;
  metrics_.consumed += batch_.size();
  // Drop what the restored checkpoint already covers (replayed input after a restart). Swapping
  // keeps every slot's buffers in the batch for the next poll.
  if (!resume_.empty()) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < batch_.size(); ++i) {
      const auto it = resume_.find(batch_[i].partition);
      if (it != resume_.end() && batch_[i].offset < it->second) {
        ++metrics_.skipped;
        continue;
      }
      if (kept != i) std::swap(batch_[kept], batch_[i]);
      ++kept;
    }
    batch_.truncate(kept);
  }
  if (!batch_.empty()) {
    failures_.clear();
    const std::span<const stream::Message> work = batch_.span();
    if (suspects_ && std::any_of(work.begin(), work.end(),
                                 [&](const stream::Message& m) { return suspect(m); })) {
      process_suspects(work);
    } else if (guard_) {
      record_.ranges.clear();
      record_.single = false;
      for (const stream::Message& m : work) {
        if (record_.ranges.empty() || record_.ranges.back().partition != m.partition) {
          record_.ranges.push_back({m.partition, m.offset, m.offset});
        } else {
          auto& r = record_.ranges.back();
          r.first = std::min(r.first, m.offset);
          r.last = std::max(r.last, m.offset);
        }
      }
      guard_->mark(record_);
      process(work);
    } else {
      process(work);
    }
    if (guard_) guard_->clear();
    for (const auto& f : failures_) dead_letter(work[f.index], f.error);
    if (!cluster_.empty()) note_last_messages(work);
    // Next offset per partition; messages of one partition usually come in runs.
    std::int32_t partition = work.front().partition;
    std::int64_t* next = &positions_[partition];
    for (const stream::Message& m : work) {
      if (m.partition != partition) {
        partition = m.partition;
        next = &positions_[partition];
      }
      *next = std::max(*next, m.offset + 1);
    }
    metrics_.processed += work.size() - failures_.size();
    dirty_ = true;
    if (suspects_) {
      std::erase_if(suspects_->ranges, [&](const CrashGuard::Range& r) {
        const auto at = positions_.find(r.partition);
        return at != positions_.end() && at->second > r.last;
      });
      if (suspects_->ranges.empty()) suspects_.reset();
    }
  }
  try {
    job_.on_wake(*context_);
  } catch (const JobError& e) {
    log_line(e.what());
  }
  if (dirty_ && now - last_checkpoint_ >= options_.checkpoint_interval) {
    checkpoint();
    last_checkpoint_ = now;
    dirty_ = false;
  }
  report_health();
  publish_status_if_due();
  if (!more) {
    input_ended_ = true;
    return false;
  }
  if (options_.idle_exit.count() > 0 && now - last_message_ >= options_.idle_exit) return false;
  return !stop_.load();
}

// The last message of each partition in `work`: its offset and fingerprint (for the origin).
void JobRunner::note_last_messages(std::span<const stream::Message> work) {
  const stream::Message* last = nullptr;
  for (const stream::Message& m : work) {
    if (last && m.partition != last->partition) {
      last_seen_[last->partition] = {last->offset,
                                     fingerprint(last->key, last->payload, last->log_time_ms)};
    }
    if (!last || m.partition != last->partition || m.offset > last->offset) last = &m;
  }
  if (last)
    last_seen_[last->partition] = {last->offset,
                                   fingerprint(last->key, last->payload, last->log_time_ms)};
}

void JobRunner::publish_status_if_due() {
  if (options_.status_topic.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_status_ < options_.checkpoint_interval) return;
  publish_status(source_.ready() ? "running" : "waiting");
  last_status_ = now;
}

void JobRunner::stop() {
  if (input_ended_) job_.finish(*context_);
  publish_status(input_ended_ ? "finished" : "stopped");  // delivered by the checkpoint's flush
  checkpoint();
  report_health();
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

}  // namespace pairflow::stream
