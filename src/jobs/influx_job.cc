// The built-in `influx` job (see jobs/builtin_jobs.h): its input topics as InfluxDB line protocol,
// POSTed to InfluxDB, VictoriaMetrics or QuestDB (history/influx_sink.h). Batches are on the
// server or in the on-disk spool before the input position is committed; with the spool full the
// job stops consuming (backpressure) until the server takes data again.
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "history/influx_sink.h"
#include "jobs/factories.h"
#include "jobs/params.h"
#include "stream/job.h"

namespace pairflow::jobs {
namespace {

class InfluxJob : public stream::Job {
 public:
  void setup(stream::JobContext& ctx) override {
    Params params("influx", ctx.params_json());
    history::InfluxOptions o;
    o.url = params.string("url", "");
    if (o.url.empty()) params.fail("url", "the write endpoint, e.g. http://127.0.0.1:8428/write");
    o.token = params.string("token", "");
    o.batch_points = static_cast<std::size_t>(params.integer("batch_points", 10000, 1, 10'000'000));
    o.batch_interval = std::chrono::milliseconds(
        params.duration("batch_interval", 1 * kNanosPerSecond) / 1'000'000);
    o.gzip = params.boolean("gzip", true);
    o.spool_dir = params.string("spool", ".pairflow/spool/" + ctx.job_name());
    o.spool_max_bytes = static_cast<std::uint64_t>(params.integer("spool_max_mb", 256, 1, 1 << 20))
                        << 20;
    o.timeout =
        std::chrono::milliseconds(params.duration("timeout", 5 * kNanosPerSecond) / 1'000'000);
    o.backoff_max =
        std::chrono::milliseconds(params.duration("max_backoff", 30 * kNanosPerSecond) / 1'000'000);
    if (o.timeout.count() <= 0) params.fail("timeout", "a positive duration such as 5s");
    try {
      sink_ = std::make_unique<history::InfluxSink>(o);
    } catch (const UserError& e) {
      throw stream::JobError(e.what());
    }
    publish(ctx);
  }
  void process(const stream::Message& m, stream::JobContext& ctx) override {
    wait_while_blocked(ctx);
    Status s = sink_->add(m.topic, m.key, m.payload, m.ts);
    if (!s) {
      const std::string& why = s.message();
      ctx.metric(fmt::format("rejected.{}", why.substr(0, why.find(':'))), 1);
      throw stream::JobError(why);
    }
  }
  void on_wake(stream::JobContext& ctx) override {
    sink_->pump();
    publish(ctx);
  }
  // Before the input position is committed, every point is on the server or in the spool. With
  // both unavailable this waits (the job consumes nothing meanwhile); only a requested stop gives
  // up, leaving the position uncommitted.
  void sync(stream::JobContext& ctx) override {
    for (;;) {
      wait_while_blocked(ctx);
      try {
        sink_->make_durable();
        publish(ctx);
        return;
      } catch (const UserError& e) {
        publish(ctx);
        if (ctx.stop_requested()) throw stream::JobError(e.what());
      }
    }
  }
  void finish(stream::JobContext& ctx) override {
    sync(ctx);
    // The input has ended: give the server a moment to take the spool, but never wait forever
    // (what is left stays spooled and is sent by the next run).
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (sink_->stats().spool_files > 0 && std::chrono::steady_clock::now() < until &&
           !ctx.stop_requested()) {
      sink_->pump();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    publish(ctx);
  }

 private:
  // Backpressure: with the spool full and the server away, wait here (not consuming) until the
  // server takes data again or a stop is requested.
  void wait_while_blocked(stream::JobContext& ctx) {
    while (sink_->blocked() && !ctx.stop_requested()) {
      if (!warned_blocked_) {
        ctx.log(stream::LogLevel::kWarning,
                fmt::format("spool full and server away ({}): not consuming until it answers",
                            sink_->stats().last_error));
        warned_blocked_ = true;
      }
      publish(ctx);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      sink_->pump();
    }
    warned_blocked_ = false;
  }
  void publish(stream::JobContext& ctx) {
    const history::InfluxStats& s = sink_->stats();
    if (s.state != last_state_) {
      ctx.log(
          s.state == history::SinkState::kConnected ? stream::LogLevel::kInfo
                                                    : stream::LogLevel::kWarning,
          fmt::format("{}{}", history::sink_state_name(s.state),
                      s.state == history::SinkState::kConnected ? "" : " (" + s.last_error + ")"));
      last_state_ = s.state;
    }
    ctx.gauge("state.connected", s.state == history::SinkState::kConnected);
    ctx.gauge("state.spooling", s.state == history::SinkState::kSpooling);
    ctx.gauge("state.blocked", s.state == history::SinkState::kBlocked);
    ctx.gauge("points", static_cast<double>(s.points));
    ctx.gauge("points_sent", static_cast<double>(s.points_sent));
    ctx.gauge("batches_sent", static_cast<double>(s.batches_sent));
    ctx.gauge("batches_spooled", static_cast<double>(s.batches_spooled));
    ctx.gauge("batches_replayed", static_cast<double>(s.batches_replayed));
    ctx.gauge("batches_rejected", static_cast<double>(s.batches_rejected));
    ctx.gauge("post_failures", static_cast<double>(s.post_failures));
    ctx.gauge("spool_files", static_cast<double>(s.spool_files));
    ctx.gauge("spool_bytes", static_cast<double>(s.spool_bytes));
  }
  std::unique_ptr<history::InfluxSink> sink_;
  history::SinkState last_state_ = history::SinkState::kConnected;
  bool warned_blocked_ = false;
};

}  // namespace

std::unique_ptr<stream::Job> make_influx_job() { return std::make_unique<InfluxJob>(); }

}  // namespace pairflow::jobs
