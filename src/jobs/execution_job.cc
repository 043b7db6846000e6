// The built-in `execution` job (see jobs/builtin_jobs.h): the execution stage of
// exec/execution_stage.h on its own, between the trader's intents and the broker.
#include <fmt/format.h>

#include <chrono>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/json_writer.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "exec/execution_stage.h"
#include "exec/wire.h"
#include "fix/fix_gateway.h"
#include "jobs/factories.h"
#include "jobs/kafka_journal.h"
#include "jobs/params.h"
#include "model/json.h"
#include "model/json_parse.h"
#include "model/tick_check.h"
#include "model/topics.h"
#include "stream/control_socket.h"
#include "stream/job.h"

namespace pairflow::jobs {
namespace {

// Ticks wait for the slice mark that covers them, so the broker sees the market and the decisions
// in the order the trader made them, however the transport interleaves the two topics. A stream of
// intents without marks (another producer) would hold ticks forever: past this many, the oldest go
// on (counted as `unclocked_ticks`).
constexpr std::size_t kMaxWaitingTicks = 1 << 20;

class ExecutionJob : public stream::Job, private exec::StageEvents {
 public:
  bool needs_event_time_order() const override { return true; }
  std::vector<std::string> out_of_band_topics(std::string_view params_json) const override {
    return {Params("execution", std::string(params_json))
                .topic("control", std::string(topics::kControl))};
  }

  void setup(stream::JobContext& ctx) override {
    ctx_ = &ctx;
    Params params("execution", ctx.params_json());
    engine::EngineConfig& config = config_;
    const std::string config_path = params.string("config", "");
    try {
      if (!config_path.empty()) config = engine::load_config(config_path);
      engine::apply_overrides(config, params.strings("set"));
    } catch (const UserError& e) {
      throw stream::JobError(fmt::format("execution: {}", e.what()));
    }
    exec::StageConfig stage = engine::stage_config(config);
    stage.journal_path = params.string("journal", stage.journal_path);
    stage.audit_path = params.string("audit_log", stage.audit_path);
    ticks_topic_ = params.topic("ticks", std::string(topics::kTicks));
    control_topic_ = params.topic("control", std::string(topics::kControl));
    const std::string on_signal = params.string("sigusr1", "halt");
    if (!exec::parse_kill_mode(on_signal, sigusr1_mode_) || sigusr1_mode_ == exec::KillMode::kNone)
      params.fail("sigusr1", "pause, flatten or halt");
    try {
      // journal = "kafka:TOPIC": the journal on a compacted topic of the job's cluster, so the job
      // can restart on another machine.
      std::unique_ptr<exec::OrderJournal> journal;
      if (stage.journal_path.starts_with("kafka:")) {
        if (ctx.brokers().empty())
          throw UserError(fmt::format("journal = \"{}\" needs the job on Kafka (--brokers)",
                                      stage.journal_path));
        journal =
            std::make_unique<KafkaJournal>(ctx.brokers(), stage.journal_path.substr(6), symbols_);
        stage.journal_path.clear();
      }
      std::unique_ptr<exec::Broker> broker;
      if (config_.broker_kind == "fix") {
        auto gateway = std::make_unique<fix::FixGateway>(config_.fix, symbols_);
        gateway_ = gateway.get();
        broker = std::move(gateway);
      }
      stage_ = std::make_unique<exec::ExecutionStage>(stage, symbols_,
                                                      static_cast<exec::StageEvents&>(*this),
                                                      std::move(broker), std::move(journal));
      const std::string socket = params.string("control_socket", "");
      if (!socket.empty()) control_ = std::make_unique<stream::ControlSocket>(socket);
    } catch (const UserError& e) {
      throw stream::JobError(fmt::format("execution: {}", e.what()));
    }
    stream::ControlSocket::install_sigusr1();
    sigusr1_seen_ = stream::ControlSocket::sigusr1_count();
    for (const std::string& problem : stage_->start(0)) {
      ctx.log(stream::LogLevel::kError,
              fmt::format("execution: reconciliation: {} (trading is blocked until an operator "
                          "acknowledges: pairflow ctl acknowledge)",
                          problem));
      ctx.metric("reconciliation_problems", 1);
    }
  }

  void process(const stream::Message& m, stream::JobContext& ctx) override {
    ctx_ = &ctx;
    serve_operators();
    if (m.topic == control_topic_) {
      auto command = parser_.parse_control(m.payload);
      if (!command) throw stream::JobError(fmt::format("control: {}", command.status().message()));
      if (command->by == "control") command->by = "control-topic";
      const std::string reply = stage_->on_command(*command);
      ctx.emit(topics::kControlStatus, "status", reply);
      return;
    }
    if (m.topic == ticks_topic_) {
      auto tick = tick_parser_.parse(m.payload, symbols_);
      if (!tick) throw stream::JobError(tick.status().message());
      std::string why;
      if (auto reason = check_tick_values(*tick, &why))
        throw stream::JobError(fmt::format("{}: {}", reject_reason_name(*reason), why));
      if (tick->ts < last_tick_ts_)
        throw stream::JobError(
            fmt::format("out_of_order: timestamp {} is before the previous "
                        "tick's {}",
                        format_timestamp(tick->ts), format_timestamp(last_tick_ts_)));
      last_tick_ts_ = tick->ts;
      waiting_.push_back(*tick);
      if (waiting_.size() > kMaxWaitingTicks) {
        stage_->on_tick(waiting_.front());
        waiting_.pop_front();
        ctx.metric("unclocked_ticks", 1);
      }
      return;
    }
    auto message = parser_.parse_orders(m.payload, symbols_);
    if (!message) throw stream::JobError(fmt::format("orders: {}", message.status().message()));
    release_before(message->ts);
    if (message->type == exec::OrdersMessage::Type::kSlice) {
      stage_->on_slice(message->ts, message->trading);
      return;
    }
    const std::uint64_t duplicates = stage_->duplicate_intents();
    const bool accepted = stage_->on_intent(message->intent);
    if (stage_->duplicate_intents() != duplicates) ctx.metric("duplicate_intents", 1);
    if (!accepted)
      throw stream::JobError(fmt::format(
          "orders: intent for pair {} refused: its legs ({}, {}) differ from the position it holds",
          message->intent.pair, symbols_.name(message->intent.y.symbol),
          symbols_.name(message->intent.x.symbol)));
  }

  void on_wake(stream::JobContext& ctx) override {
    ctx_ = &ctx;
    serve_operators();
    if (gateway_) {
      stage_->poll_broker();
      report_gateway();
    }
  }

  void finish(stream::JobContext& ctx) override {
    ctx_ = &ctx;
    release_before(std::numeric_limits<Timestamp>::max());
    if (gateway_) {
      // A live broker answers in its own time: wait (bounded) for the working orders to end.
      const auto until = std::chrono::steady_clock::now() +
                         std::chrono::duration<double>(config_.fix.status_timeout_s);
      while (!stage_->service().idle() && std::chrono::steady_clock::now() < until) {
        stage_->poll_broker();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      report_gateway();
    }
    stage_->finish();
    ctx.emit("", "summary", summary());
  }

 private:
  void release_before(Timestamp ts) {
    while (!waiting_.empty() && waiting_.front().ts < ts) {
      stage_->on_tick(waiting_.front());
      waiting_.pop_front();
    }
  }

  // The gateway's counters as job metrics (fix_*), and its problems in the log.
  void report_gateway() {
    const fix::GatewayCounts c = gateway_->counts();
    const std::pair<const char*, std::uint64_t fix::GatewayCounts::*> fields[] = {
        {"fix_orders_sent", &fix::GatewayCounts::orders_sent},
        {"fix_cancels_sent", &fix::GatewayCounts::cancels_sent},
        {"fix_throttled", &fix::GatewayCounts::throttled},
        {"fix_queue_full", &fix::GatewayCounts::queue_full},
        {"fix_duplicate_reports", &fix::GatewayCounts::duplicate_reports},
        {"fix_bad_reports", &fix::GatewayCounts::bad_reports},
        {"fix_unknown_reports", &fix::GatewayCounts::unknown_reports},
        {"fix_session_problems", &fix::GatewayCounts::session_problems},
        {"fix_logons", &fix::GatewayCounts::logons},
        {"fix_logouts", &fix::GatewayCounts::logouts}};
    for (const auto& [name, field] : fields) {
      if (c.*field != reported_.*field)
        ctx_->metric(name, static_cast<double>(c.*field - reported_.*field));
    }
    reported_ = c;
    for (const std::string& problem : gateway_->take_problems())
      ctx_->log(stream::LogLevel::kWarning, fmt::format("execution: fix: {}", problem));
  }

  // Commands from `pairflow ctl` and SIGUSR1, between messages.
  void serve_operators() {
    const std::uint64_t signals = stream::ControlSocket::sigusr1_count();
    if (signals != sigusr1_seen_) {
      sigusr1_seen_ = signals;
      exec::ControlCommand c{.kind = exec::CommandKind::kKill,
                             .mode = sigusr1_mode_,
                             .by = "signal:SIGUSR1",
                             .reason = "SIGUSR1 received"};
      ctx_->emit(topics::kControlStatus, "status", stage_->on_command(c));
    }
    if (!control_) return;
    for (const auto& request : control_->take()) {
      auto command = parser_.parse_control(request.text);
      if (!command) {
        std::string reply;
        JsonWriter w(reply);
        w.begin_object().field("ok", false).field("error", command.status().message()).end_object();
        control_->answer(request.id, reply);
        continue;
      }
      if (command->by == "control") command->by = "ctl";
      const std::string reply = stage_->on_command(*command);
      control_->answer(request.id, reply);
      if (command->kind != exec::CommandKind::kStatus)
        ctx_->emit(topics::kControlStatus, "status", reply);
    }
  }

  // The execution part of the run's summary (the trader's summary has the decisions).
  std::string summary() const {
    engine::Summary s;
    s.part = engine::Summary::Part::kExecution;
    s.intents = stage_->service().counts().intents;
    engine::add_execution(s, *stage_, config_, symbols_, stage_->now());
    return s.to_json();
  }

  void on_execution(const Execution& e) override {
    ctx_->emit(topics::kExecutions, symbols_.name(e.symbol), to_json(e, symbols_));
  }
  void on_pnl(const PnL& p) override { ctx_->emit(topics::kPnl, "portfolio", to_json(p)); }
  void on_position(const Position& p) override {
    ctx_->emit(topics::kPositions, symbols_.name(p.symbol), to_json(p, symbols_));
  }
  void on_pair_pnl(const exec::PairPnl& p) override {
    ctx_->emit(topics::kPairPnl, std::to_string(p.pair), exec::to_json(p, symbols_));
  }
  void on_audit(const exec::AuditEntry& entry) override {
    ctx_->emit(topics::kAudit, "kill_switch", entry.to_json());
  }

  stream::JobContext* ctx_ = nullptr;
  engine::EngineConfig config_;
  SymbolTable symbols_;
  TickParser tick_parser_;
  exec::WireParser parser_;
  std::unique_ptr<exec::ExecutionStage> stage_;
  std::unique_ptr<stream::ControlSocket> control_;
  fix::FixGateway* gateway_ = nullptr;  // owned by stage_, when broker.kind = "fix"
  fix::GatewayCounts reported_;
  std::deque<Tick> waiting_;
  Timestamp last_tick_ts_ = std::numeric_limits<Timestamp>::min();
  std::string ticks_topic_, control_topic_;
  exec::KillMode sigusr1_mode_ = exec::KillMode::kHalt;
  std::uint64_t sigusr1_seen_ = 0;
};

}  // namespace

std::unique_ptr<stream::Job> make_execution_job() { return std::make_unique<ExecutionJob>(); }

}  // namespace pairflow::jobs
