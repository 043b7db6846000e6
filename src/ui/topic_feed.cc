#include "ui/topic_feed.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <set>

#include "base/json_writer.h"
#include "base/status.h"
#include "base/time.h"

namespace pairflow::ui {

namespace {

using Clock = std::chrono::steady_clock;

double num(simdjson::dom::element e, const char* key, double fallback = 0) {
  double v;
  if (e[key].get(v) == simdjson::SUCCESS) return v;
  std::int64_t i;
  if (e[key].get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  return fallback;
}

std::string str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) == simdjson::SUCCESS) return std::string(v);
  return "";
}

std::string wall_time_iso() {
  return format_timestamp(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
}

}  // namespace

TopicFeed::TopicFeed(Hub& hub, MetricsRegistry& metrics, std::string run_name,
                     std::string audit_path, int publish_ms, bool can_control)
    : hub_(hub),
      metrics_(metrics),
      run_name_(std::move(run_name)),
      audit_path_(std::move(audit_path)),
      publish_every_(publish_ms),
      can_control_(can_control) {
  audit_ = std::fopen(audit_path_.c_str(), "a");
  if (!audit_)
    throw UserError(fmt::format("{}: cannot append to the control audit log", audit_path_));
  hub_.set_document("config",
                    fmt::format(R"({{"run":{},"source":"topics"}})", json_string(run_name_)));
  hub_.set_document(
      "screener",
      R"({"tests":0,"passing":0,"screens":0,"candidates":[],"note":"no screen yet: the trader job publishes its screens on its screener_topic, which the ui job reads"})");
  publish_state("starting");
  hub_.commit();
}

TopicFeed::~TopicFeed() {
  if (audit_) std::fclose(audit_);
}

std::string TopicFeed::pair_json(std::uint32_t id, const PairView& p) const {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("id", id).field("name", p.y + "~" + p.x).field("y", p.y).field("x", p.x);
  w.field("state", p.state).field("enabled", true);
  if (p.has_z) {
    w.field("z", p.z);
  } else {
    w.key("z").null();
  }
  w.field("hedge_ratio", p.hedge_ratio).field("half_life", p.half_life).field("pvalue", p.pvalue);
  w.field("entry_z", p.entry_z).field("exit_z", p.exit_z).field("stop_z", p.stop_z);
  w.field("qty_y", p.qty_y).field("qty_x", p.qty_x).field("net_pnl", p.net_pnl);
  w.field("trades", p.trades).end_object();
  return out;
}

std::string TopicFeed::on_message(std::string_view topic, std::string_view payload) {
  ++topic_counts_[std::string(topic)];
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(payload).get(e) != simdjson::SUCCESS || !e.is_object()) {
    ++errors_;
    return fmt::format("{}: not a JSON object", topic);
  }
  dirty_ = true;
  if (topic == screener_topic_) {
    // One screen (engine::screener_json): the panel shows it whole, each candidate marked active
    // when the trader trades it (from pairs.control).
    simdjson::dom::array list;
    if (e["candidates"].get(list) != simdjson::SUCCESS) {
      ++errors_;
      return fmt::format("{}: a screen needs candidates", topic);
    }
    std::vector<Candidate> candidates;
    for (simdjson::dom::element item : list) {
      Candidate c{str(item, "name"), str(item, "y"), str(item, "x"), ""};
      if (!item.is_object() || c.y.empty() || c.x.empty()) {
        ++errors_;
        return fmt::format("{}: a candidate needs y and x", topic);
      }
      c.fields = std::string(simdjson::minify(item));
      c.fields.pop_back();  // the closing brace: "active" is added when published
      candidates.push_back(std::move(c));
    }
    candidates_ = std::move(candidates);
    bool truncated = false;
    if (e["truncated"].get(truncated) != simdjson::SUCCESS) truncated = false;
    std::int64_t ts = 0;  // event time in ns: an integer (a double would round it)
    if (e["ts"].get(ts) != simdjson::SUCCESS) ts = 0;
    screen_head_ =
        fmt::format(R"("tests":{},"passing":{},"screens":{},"ts":{}{})",
                    json_number(num(e, "tests")), json_number(num(e, "passing")),
                    json_number(num(e, "screens")), ts, truncated ? R"(,"truncated":true)" : "");
  } else if (topic == status_topic_) {
    // A job instance's status record (stream/job_runner.h): its row in the jobs panel.
    const std::string job = str(e, "job"), instance = str(e, "instance");
    simdjson::dom::element metrics;
    if (job.empty() || instance.empty() || e["metrics"].get(metrics) != simdjson::SUCCESS ||
        !metrics.is_object()) {
      ++errors_;
      return fmt::format("{}: a status record needs job, instance and metrics", topic);
    }
    if (job == own_name_) return "";  // this job's own row is live already
    JobView& j = jobs_[instance];
    std::int64_t ts = 0;
    if (e["ts"].get(ts) != simdjson::SUCCESS) ts = 0;
    const double consumed = num(metrics, "consumed", 0);
    if (j.ts > 0 && ts > j.ts)
      j.rate_in = std::max(0.0, consumed - j.consumed) / (static_cast<double>(ts - j.ts) / 1e9);
    j.job = job;
    // The row's name: the job, with its instance id when it has one (JOB@GROUP#ID).
    const auto hash = instance.rfind('#');
    j.name = hash == std::string::npos ? job : job + instance.substr(hash);
    j.state = str(e, "state");
    j.ts = ts;
    j.interval_ms =
        std::max<std::int64_t>(1, static_cast<std::int64_t>(num(e, "interval_ms", 1000)));
    j.consumed = consumed;
    j.produced = num(metrics, "produced", 0);
    j.dead_lettered = num(metrics, "dead_lettered", 0);
    j.skipped = num(metrics, "skipped", 0);
    j.lag = num(e, "lag", 0);
    j.metrics_json = std::string(simdjson::minify(metrics));
    j.received = Clock::now();
    j.stale = false;
  } else if (topic == "pnl") {
    const double equity = num(e, "equity");
    last_ts_ = static_cast<std::int64_t>(num(e, "ts"));
    if (peak_ == 0 || equity > peak_) peak_ = equity;
    max_drawdown_ = std::min(max_drawdown_, equity - peak_);
    equity_ = equity;
    net_pnl_ = num(e, "net_pnl");
    std::string data;
    JsonWriter w(data);
    w.begin_object().field("ts", last_ts_).field("equity", equity).field("net_pnl", net_pnl_);
    w.field("gross_pnl", num(e, "gross_pnl")).field("fees", num(e, "fees"));
    w.field("drawdown", equity - peak_).field("max_drawdown", max_drawdown_).end_object();
    pnl_json_ = data;
    hub_.add_equity(EquityPoint{last_ts_, equity, equity - peak_});
  } else if (topic == "positions") {
    const std::string symbol = str(e, "symbol");
    const double qty = num(e, "qty"), mark = num(e, "mark", num(e, "avg_price"));
    if (qty == 0) {
      positions_.erase(symbol);
    } else {
      std::string data;
      JsonWriter w(data);
      w.begin_object().field("symbol", symbol).field("qty", qty).field("price", mark);
      w.field("value", qty * mark).field("avg_price", num(e, "avg_price"));
      w.field("unrealized_pnl", num(e, "unrealized_pnl")).end_object();
      positions_[symbol] = std::move(data);
    }
  } else if (topic == "pnl.pairs") {
    PairView& p = pairs_[static_cast<std::uint32_t>(num(e, "pair"))];
    if (p.y.empty()) {
      p.y = str(e, "y");
      p.x = str(e, "x");
    }
    p.qty_y = num(e, "qty_y");
    p.qty_x = num(e, "qty_x");
    p.net_pnl = num(e, "net_pnl");
    p.trades = static_cast<int>(num(e, "trades"));
  } else if (topic == "pairs.control") {
    const auto id = static_cast<std::uint32_t>(num(e, "pair"));
    if (str(e, "action") == "deactivate") {
      pairs_.erase(id);
    } else {
      PairView& p = pairs_[id];
      p.y = str(e, "y");
      p.x = str(e, "x");
      p.hedge_ratio = num(e, "hedge_ratio");
      p.half_life = num(e, "half_life");
      p.pvalue = num(e, "pvalue");
      p.entry_z = num(e, "entry_z");
      p.exit_z = num(e, "exit_z");
      p.stop_z = num(e, "stop_z");
    }
  } else if (topic == "pairs.signals") {
    const auto id = static_cast<std::uint32_t>(num(e, "pair"));
    const std::string action = str(e, "action");
    const double z = num(e, "z");
    auto it = pairs_.find(id);
    if (it != pairs_.end()) {
      it->second.z = z;
      it->second.has_z = true;
      it->second.hedge_ratio = num(e, "hedge_ratio", it->second.hedge_ratio);
      if (action == "enter_long") it->second.state = "long";
      if (action == "enter_short") it->second.state = "short";
      if (action == "exit" || action == "stop") it->second.state = "flat";
    }
    const auto ts = static_cast<std::int64_t>(num(e, "ts"));
    SignalAction a = SignalAction::kHold;
    if (action == "enter_long") a = SignalAction::kEnterLong;
    if (action == "enter_short") a = SignalAction::kEnterShort;
    if (action == "exit") a = SignalAction::kExit;
    if (action == "stop") a = SignalAction::kStop;
    hub_.add_pair_trade(id, PairTrade{ts, a, z});
    hub_.publish(Stream::kSignals, std::to_string(++signal_seq_), std::string(payload));
  } else if (topic == "executions") {
    const std::string id = std::string(simdjson::minify(e["client_order_id"]));
    const std::string status = str(e, "status");
    std::string data;
    JsonWriter w(data);
    w.begin_object().field("ts", static_cast<std::int64_t>(num(e, "ts"))).field("order", id);
    w.field("pair", static_cast<std::int64_t>(num(e, "pair", -1)));
    w.field("symbol", str(e, "symbol")).field("side", str(e, "side"));
    w.field("qty", num(e, "qty")).field("price", num(e, "price", kNaN));
    w.field("fee", num(e, "fee")).field("status", status).field("reason", str(e, "reason"));
    w.end_object();
    executions_.push_back(data);
    while (executions_.size() > 500) executions_.pop_front();
    hub_.publish(Stream::kExecutions, std::to_string(++execution_seq_), std::move(data));
    OrderView& o = open_orders_[id];
    o.filled += num(e, "qty");
    o.status = status;
    o.ts = static_cast<std::int64_t>(num(e, "ts"));
    if (o.json_head.empty()) {
      JsonWriter h(o.json_head);
      h.begin_object().field("id", id).field("pair", static_cast<std::int64_t>(num(e, "pair", -1)));
      h.field("symbol", str(e, "symbol")).field("side", str(e, "side"));
    }
    if (status == "filled" || status == "rejected" || status == "cancelled" ||
        status == "expired") {
      open_orders_.erase(id);
      hub_.publish(Stream::kOrders, id, "null");
    } else {
      std::string order =
          o.json_head + fmt::format(R"(,"filled":{},"status":{},"ts":{}}})", json_number(o.filled),
                                    json_string(status), o.ts);
      hub_.publish(Stream::kOrders, id, std::move(order));
    }
  } else if (topic == "control.status") {
    risk_json_ = std::string(payload);
    kill_ = str(e, "kill_switch").empty() ? kill_ : str(e, "kill_switch");
    trading_ = str(e, "trading_state").empty() ? trading_ : str(e, "trading_state");
    hub_.publish(Stream::kRisk, "state", risk_json_);
    if (!awaiting_.empty()) {  // the answer to the oldest command sent
      ControlRequest r = std::move(awaiting_.front());
      awaiting_.pop_front();
      bool ok = true;
      if (e["ok"].get(ok) != simdjson::SUCCESS) ok = true;
      answer(r, ok ? 200 : 409, risk_json_);
    }
  } else if (topic == "control.audit") {
    audit_recent_.push_back(std::string(payload));
    while (audit_recent_.size() > 100) audit_recent_.pop_front();
  }
  return "";
}

void TopicFeed::answer(ControlRequest& r, int status, const std::string& body) {
  std::string line;
  JsonWriter w(line);
  w.begin_object().field("time", wall_time_iso()).field("event_ts", last_ts_);
  w.field("who", r.who).field("role", r.role).field("remote", r.remote).field("path", r.path);
  w.field("status", status).field("request", r.body).key("answer").raw(body).end_object();
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), audit_);
  std::fflush(audit_);
  metrics_
      .counter("pairflow_ui_controls_total", "Operator commands answered, by command and status",
               {{"command", r.path == "/api/control" ? "kill_switch" : "pair"},
                {"status", std::to_string(status)}})
      .add();
  r.done(status, body);
}

void TopicFeed::on_wake(std::vector<std::string>& control_out) {
  for (ControlRequest& r : hub_.take_controls()) {
    if (r.path != "/api/control") {
      answer(
          r, 409,
          R"J({"ok":false,"error":"pair commands need the engine in process (pairflow demo, backtest --ui); the trader job takes no commands"})J");
      continue;
    }
    if (!can_control_) {
      answer(
          r, 409,
          R"J({"ok":false,"error":"in process the dashboard cannot reach the execution job (a pipeline flows one way): use pairflow ctl --socket, or run the ui job on Kafka (--job ui --brokers)"})J");
      continue;
    }
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    std::string_view cmd;
    if (parser.parse(r.body).get(e) != simdjson::SUCCESS || !e.is_object() ||
        e["command"].get(cmd) != simdjson::SUCCESS) {
      answer(
          r, 400,
          R"({"ok":false,"error":"the body must be a JSON object such as {\"command\":\"pause\"}"})");
      continue;
    }
    if (cmd != "pause" && cmd != "resume" && cmd != "flatten" && cmd != "halt" && cmd != "rearm" &&
        cmd != "acknowledge") {
      answer(
          r, 400,
          R"J({"ok":false,"error":"unknown command (pause, resume, flatten, halt, rearm, acknowledge)"})J");
      continue;
    }
    if (cmd == "acknowledge" && r.role != "admin") {
      answer(r, 403, R"({"ok":false,"error":"acknowledge needs the admin role"})");
      continue;
    }
    std::string message;
    JsonWriter w(message);
    w.begin_object().field("command", cmd).field("by", "ui:" + r.who);
    w.field("reason", str(e, "reason")).end_object();
    control_out.push_back(std::move(message));
    awaiting_.push_back(std::move(r));  // answered by the execution job's control.status
  }
  const auto now = Clock::now();
  for (const auto& [instance, j] : jobs_)
    if (!j.stale && stale(j, now)) dirty_ = true;  // a job went quiet: the panel must say so
  if (dirty_ && now - last_publish_ >= publish_every_) publish_state("running");
  hub_.commit();
}

void TopicFeed::set_identity(std::string own_name, std::string status_topic,
                             std::string screener_topic) {
  own_name_ = std::move(own_name);
  status_topic_ = std::move(status_topic);
  screener_topic_ = std::move(screener_topic);
  dirty_ = true;
}

// A running instance whose status records stopped coming (three intervals, at least 5 s): it
// died or hangs; the panel says so instead of showing its last counters as if live.
bool TopicFeed::stale(const JobView& j, Clock::time_point now) const {
  if (j.state != "running" && j.state != "waiting") return false;
  const auto limit = std::max<std::int64_t>(5000, 3 * j.interval_ms);
  return now - j.received > std::chrono::milliseconds(limit);
}

void TopicFeed::finish() {
  publish_state("finished");
  hub_.commit();
  for (ControlRequest& r : awaiting_)
    answer(r, 409, R"({"ok":false,"error":"the input ended before the execution job answered"})");
  awaiting_.clear();
  hub_.close_controls("the run has finished: nothing is trading");
}

// The items of `now` that differ from what was published, and a null for each item gone; `now`
// becomes what was published (and is left empty).
void TopicFeed::publish_changes(Stream stream, std::map<std::string, std::string>& now,
                                std::map<std::string, std::string>& published) {
  for (const auto& [k, j] : now)
    if (published[k] != j) hub_.publish(stream, k, j);
  for (const auto& [k, j] : published)
    if (!now.count(k)) hub_.publish(stream, k, "null");
  published.swap(now);
  now.clear();
}

void TopicFeed::publish_state(const char* state) {
  last_publish_ = Clock::now();
  dirty_ = false;
  if (last_ts_ != 0) hub_.publish(Stream::kPnl, "total", pnl_json_);
  std::string pnl_doc = pnl_json_.size() > 2 ? pnl_json_ : R"({"equity":0,"net_pnl":0})";
  hub_.set_document("pnl", pnl_doc);
  // pairs and positions: the documents whole, the streams with what changed
  std::map<std::string, std::string> now;
  std::string doc = R"({"pairs":[)";
  for (const auto& [id, p] : pairs_) {
    std::string j = pair_json(id, p);
    doc += (doc.size() > 10 ? "," : "") + j;
    now[std::to_string(id)] = std::move(j);
  }
  doc += "]}";
  hub_.set_document("pairs", std::move(doc));
  publish_changes(Stream::kPairs, now, published_pairs_);
  if (!screen_head_.empty()) {
    std::set<std::pair<std::string, std::string>> active;
    for (const auto& [id, p] : pairs_) active.emplace(p.y, p.x);
    doc = "{" + screen_head_ + R"(,"candidates":[)";
    bool first_candidate = true;
    for (const Candidate& c : candidates_) {
      std::string j =
          c.fields + (active.count({c.y, c.x}) ? R"(,"active":true})" : R"(,"active":false})");
      doc += (first_candidate ? "" : ",") + j;
      first_candidate = false;
      now[c.name] = std::move(j);
    }
    hub_.set_document("screener", doc + "]}");
    publish_changes(Stream::kScreener, now, published_screen_);
  }
  doc = R"({"positions":[)";
  for (const auto& [k, j] : positions_) {
    doc += (doc.size() > 14 ? "," : "") + j;
    if (published_positions_[k] != j) hub_.publish(Stream::kPositions, k, j);
  }
  for (const auto& [k, j] : published_positions_)
    if (!positions_.count(k)) hub_.publish(Stream::kPositions, k, "null");
  published_positions_ = positions_;
  doc += "]}";
  hub_.set_document("positions", std::move(doc));
  doc = R"({"open":[)";
  bool first = true;
  for (const auto& [id, o] : open_orders_) {
    if (!first) doc += ',';
    first = false;
    doc += o.json_head + fmt::format(R"(,"filled":{},"status":{},"ts":{}}})", json_number(o.filled),
                                     json_string(o.status), o.ts);
  }
  doc += R"(],"recent":[]})";
  hub_.set_document("orders", std::move(doc));
  hub_.set_document("executions", json_list(R"({"executions":[)", executions_, "]}"));
  hub_.set_document("risk", json_list(risk_json_.substr(0, risk_json_.size() - 1) + R"(,"audit":[)",
                                      audit_recent_, "]}"));
  // jobs: what this job reads, per topic
  std::string jobs;
  JsonWriter w(jobs);
  std::uint64_t total = 0;
  for (const auto& [t, n] : topic_counts_) total += n;
  w.begin_object().field("name", own_name_).field("state", "running");
  w.field("messages_in", total).field("messages_out", 0);
  w.field("rate_in", 0.0).field("lag", 0).key("rejects").begin_object();
  if (errors_) w.field("malformed", errors_);
  w.end_object().field("dlq", 0).key("topics").begin_object();
  for (const auto& [t, n] : topic_counts_) w.field(t, n);
  w.end_object().end_object();
  hub_.publish(Stream::kJobs, own_name_, jobs);
  std::string jobs_doc = R"({"jobs":[)" + jobs;
  const auto at = Clock::now();
  for (auto& [instance, j] : jobs_) {
    j.stale = stale(j, at);
    std::string row;
    JsonWriter r(row);
    r.begin_object().field("name", j.name).field("job", j.job).field("instance", instance);
    r.field("state", j.stale ? "stale" : j.state);
    r.field("age_s", std::chrono::duration<double>(at - j.received).count());
    r.field("messages_in", j.consumed).field("messages_out", j.produced);
    r.field("rate_in", j.rate_in).field("lag", j.lag).key("rejects").begin_object();
    if (j.skipped > 0) r.field("skipped", j.skipped);
    r.end_object().field("dlq", j.dead_lettered).key("metrics").raw(j.metrics_json).end_object();
    hub_.publish(Stream::kJobs, j.name, row);
    jobs_doc += "," + row;
  }
  hub_.set_document("jobs", jobs_doc + "]}");
  for (const char* mode : {"none", "pause", "flatten", "halt"})
    metrics_.gauge("pairflow_kill_switch", "1 for the kill switch's current mode", {{"mode", mode}})
        .set(kill_ == mode ? 1 : 0);
  metrics_.gauge("pairflow_equity", "Equity: cash plus marked positions").set(equity_);
  metrics_.gauge("pairflow_net_pnl", "Net P&L after fees").set(net_pnl_);
  metrics_.gauge("pairflow_active_pairs", "Pairs the actors trade")
      .set(static_cast<double>(pairs_.size()));
  metrics_.counter("pairflow_job_messages_in_total", "Messages a job consumed", {{"job", "ui"}})
      .set(static_cast<double>(total));
  std::string status;
  JsonWriter s(status);
  s.begin_object().field("run", run_name_).field("state", state).field("ts", last_ts_);
  s.field("time", last_ts_ ? format_timestamp(last_ts_) : "").field("ticks", 0).field("bars", 0);
  s.field("slices", 0)
      .field("speed", 0)
      .field("kill_switch", kill_)
      .field("trading_state", trading_);
  s.field("active_pairs", static_cast<std::uint64_t>(pairs_.size())).field("equity", equity_);
  s.field("net_pnl", net_pnl_).field("source", "topics").end_object();
  hub_.set_document("status", std::move(status));
}

}  // namespace pairflow::ui
