// The built-in `ui` job: the dashboard served from the pipeline's topics (ui/topic_feed.h), in
// process (`pairflow run PIPELINE.toml` with a `ui` job) or on its own on Kafka (`--job ui
// --brokers ...`). Kill switch commands from the dashboard go out on the job's output topic
// on the `control` topic (on Kafka), which the execution job reads; its answers come back on
// control.status. In process the dashboard shows everything but cannot send commands (they would
// flow against the pipeline): `pairflow ctl --socket` reaches the execution job there.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "base/json_writer.h"
#include "engine/config.h"
#include "jobs/factories.h"
#include "jobs/params.h"
#include "model/topics.h"
#include "ui/server.h"
#include "ui/topic_feed.h"

namespace pairflow::jobs {
namespace {

class UiJob : public stream::Job {
 public:
  void setup(stream::JobContext& ctx) override {
    Params params("ui", ctx.params_json());
    engine::EngineConfig config;
    try {
      const std::string path = params.string("config", "");
      if (!path.empty()) config = engine::load_config(path);
      engine::apply_overrides(config, params.strings("set"));
      engine::validate(config);
    } catch (const UserError& e) {
      throw stream::JobError(fmt::format("ui: {}", e.what()));
    }
    ui::ServerConfig sc;
    sc.bind = params.string("bind", config.ui.bind);
    sc.port = static_cast<int>(params.integer("port", config.ui.port, 0, 65535));
    sc.tokens = config.ui.tokens;
    sc.read_only = config.ui.read_only;
    sc.tls_cert = config.ui.tls_cert;
    sc.tls_key = config.ui.tls_key;
    sc.web_root = config.ui.web_root.empty() ? ui::default_web_root() : config.ui.web_root;
    std::string audit = config.ui.audit_log;
    if (audit.empty()) {
      std::filesystem::create_directories(".pairflow");
      audit = ".pairflow/control_audit.jsonl";
    }
    hub_ = std::make_unique<ui::Hub>(static_cast<std::size_t>(config.ui.stream_history));
    try {
      feed_ = std::make_unique<ui::TopicFeed>(*hub_, metrics_, "pipeline", audit,
                                              config.ui.publish_ms, !ctx.brokers().empty());
      feed_->set_identity(ctx.job_name(),
                          params.topic("status_topic", std::string(topics::kJobsStatus)),
                          params.topic("screener_topic", std::string(topics::kScreener)));
      server_ = std::make_unique<ui::DashboardServer>(sc, *hub_, metrics_);
    } catch (const UserError& e) {
      throw stream::JobError(fmt::format("ui: {}", e.what()));
    }
    const std::string op = server_->token_for("operator");
    ctx.log(stream::LogLevel::kInfo,
            fmt::format("ui: dashboard at {}#token={} (viewer token {}); controls audited in {}",
                        server_->url(), op, server_->token_for("viewer"), audit));
    const std::string info_path = params.string("ui_info", "");
    if (!info_path.empty()) {
      std::string info;
      JsonWriter w(info);
      w.begin_object().field("url", server_->url()).field("port", server_->port());
      w.field("operator_token", op).field("viewer_token", server_->token_for("viewer"));
      w.field("audit_log", audit).end_object();
      const std::string tmp = info_path + ".tmp";
      std::FILE* f = std::fopen(tmp.c_str(), "w");
      if (!f) throw stream::JobError(fmt::format("ui: {}: cannot write", info_path));
      std::fputs(info.c_str(), f);
      std::fclose(f);
      std::filesystem::rename(tmp, info_path);
    }
  }

  void process(const stream::Message& m, stream::JobContext& ctx) override {
    const std::string error = feed_->on_message(m.topic, m.payload);
    if (!error.empty()) throw stream::JobError(error);
    wake(ctx);
  }

  void on_wake(stream::JobContext& ctx) override { wake(ctx); }

  void finish(stream::JobContext& ctx) override {
    wake(ctx);
    feed_->finish();
  }

 private:
  void wake(stream::JobContext& ctx) {
    commands_.clear();
    feed_->on_wake(commands_);
    // Straight to the control topic (on Kafka only: in process that would be a cycle).
    for (const std::string& c : commands_) ctx.emit(topics::kControl, "ui", c);
  }

  MetricsRegistry metrics_;
  std::unique_ptr<ui::Hub> hub_;
  std::unique_ptr<ui::TopicFeed> feed_;
  std::unique_ptr<ui::DashboardServer> server_;  // last: stops first
  std::vector<std::string> commands_;
};

}  // namespace

std::unique_ptr<stream::Job> make_ui_job() { return std::make_unique<UiJob>(); }

}  // namespace pairflow::jobs
