#include "fix/fix_sim.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "base/json_writer.h"
#include "base/status.h"

namespace pairflow::fix {

std::string SimState::to_json() const {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("orders", orders).field("duplicates", duplicates);
  w.field("resends_ignored", resends_ignored);
  w.field("cancels", cancels).field("status_requests", status_requests);
  w.field("bad_messages", bad_messages).field("fills", fills).field("drops", drops);
  w.key("positions").begin_object();
  for (const auto& [symbol, qty] : positions) w.field(symbol, qty);
  w.end_object().end_object();
  return out;
}

FixSimulator::FixSimulator(const SimConfig& config, std::function<bool(Tick&)> feed,
                           SymbolTable& symbols)
    : config_(config), feed_(std::move(feed)), symbols_(symbols), paper_(config.paper) {
  config_.session.acceptor = true;
  try {
    bridge_ = std::make_unique<QuickFixBridge>(config_.session, static_cast<BridgeEvents&>(*this));
    bridge_->start();
  } catch (const std::runtime_error& e) {
    throw UserError(e.what());
  }
  save_state();
}

FixSimulator::~FixSimulator() { bridge_->stop(); }

void FixSimulator::drop() {
  {
    std::lock_guard lock(mutex_);
    ++state_.drops;
  }
  bridge_->drop();
  save_state();
}

SimState FixSimulator::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void FixSimulator::on_message(const FixMessage& m) {
  handle(m);
  save_state();
}

void FixSimulator::replay_until(Timestamp until) {
  while (true) {
    if (!next_ && !feed_ended_) {
      Tick t;
      if (feed_(t)) {
        next_ = t;
      } else {
        feed_ended_ = true;
      }
    }
    if (!next_) {
      paper_.finish();  // the market ended: what travels arrives at the last market
      return;
    }
    const Tick t = *next_;
    paper_.on_tick(t);
    paper_.advance(t.ts);
    next_.reset();
    if (t.ts >= until) return;
  }
}

void FixSimulator::handle(const FixMessage& m) {
  const Timestamp horizon_extra = config_.paper.latency + config_.paper.latency_jitter;
  if (m.type == "D") {
    {
      std::lock_guard lock(mutex_);
      ++state_.orders;
    }
    auto order = read_new_order(m, symbols_);
    if (!order) {
      reject_message(m, order.status().message());
      return;
    }
    const bool duplicate = known_.count(order->client_order_id) > 0;
    if (duplicate && m.poss_dup) {  // a session-level resend of what it has: ignored
      std::lock_guard lock(mutex_);
      ++state_.resends_ignored;
      --state_.orders;
      return;
    }
    if (!duplicate) known_[order->client_order_id] = Known{.order = *order};
    const Timestamp t = std::max(order->ts, clock_);
    clock_ = t;
    paper_.send(*order, t);
    if (duplicate) {
      std::lock_guard lock(mutex_);
      ++state_.duplicates;
    }
    bool drop_now = false;
    {
      std::lock_guard lock(mutex_);
      drop_now = config_.drop_after_orders > 0 && state_.orders == config_.drop_after_orders;
      if (drop_now) ++state_.drops;
    }
    if (drop_now) bridge_->drop();  // the reports below are stored, and resent on request
    replay_until(t + horizon_extra);
    std::vector<exec::BrokerReport> reports;
    paper_.poll(reports);
    answer(reports);
    return;
  }
  if (m.type == "F") {
    {
      std::lock_guard lock(mutex_);
      ++state_.cancels;
    }
    auto c = read_cancel_request(m);
    if (!c) {
      reject_message(m, c.status().message());
      return;
    }
    cancel_ids_[c->client_order_id] = c->cancel_id;
    const Timestamp t = std::max(c->ts, clock_);
    clock_ = t;
    paper_.cancel(c->client_order_id, t);
    replay_until(t + horizon_extra);
    std::vector<exec::BrokerReport> reports;
    paper_.poll(reports);
    answer(reports);
    return;
  }
  if (m.type == "H") {
    {
      std::lock_guard lock(mutex_);
      ++state_.status_requests;
    }
    auto id = read_status_request(m);
    if (!id) {
      reject_message(m, id.status().message());
      return;
    }
    ReportFields f;
    f.exec_type = 'I';
    f.client_order_id = *id;
    f.exec_id = fmt::format("S{}", ++exec_ids_);
    f.order_id = std::to_string(*id);
    f.ts = clock_;
    auto it = known_.find(*id);
    if (it == known_.end()) {
      f.ord_status = '8';
      f.reject_reason = 5;  // unknown order
      f.text = "unknown order";
      if (const std::string* s = m.get(tag::kSymbol)) f.symbol = *s;
    } else {
      const Known& k = it->second;
      f.ord_status = k.status;
      f.symbol = symbols_.name(k.order.symbol);
      f.side = k.order.side;
      f.order_qty = k.order.qty;
      f.cum_qty = k.cum;
      f.avg_px = k.cum > 0 ? k.notional / k.cum : 0;
      f.leaves_qty = (k.status == '0' || k.status == '1') ? k.order.qty - k.cum : 0;
      f.commission = k.fees;
    }
    bridge_->send(execution_report(f), true);
    return;
  }
  reject_message(m, fmt::format("message type {} is not handled", m.type));
}

void FixSimulator::answer(const std::vector<exec::BrokerReport>& reports) {
  for (const exec::BrokerReport& r : reports) {
    auto it = known_.find(r.client_order_id);
    if (r.kind == exec::ReportKind::kCancelReject) {
      const char st = it == known_.end() ? '8' : it->second.status;
      bridge_->send(
          cancel_reject(r.client_order_id, cancel_ids_[r.client_order_id], st, r.ts, r.reason),
          true);
      continue;
    }
    if (it == known_.end()) continue;
    Known& k = it->second;
    if (r.kind == exec::ReportKind::kReject && r.reason == "duplicate_client_order_id") {
      // Refuse the resend; the original order's state is untouched.
      ReportFields f{.exec_type = '8', .ord_status = '8', .client_order_id = r.client_order_id};
      f.exec_id = fmt::format("E{}", ++exec_ids_);
      f.order_id = std::to_string(r.client_order_id);
      f.symbol = symbols_.name(k.order.symbol);
      f.side = k.order.side;
      f.order_qty = k.order.qty;
      f.cum_qty = k.cum;
      f.ts = r.ts;
      f.text = "duplicate ClOrdID";
      f.reject_reason = 6;  // duplicate order
      bridge_->send(execution_report(f), true);
      continue;
    }
    ReportFields f;
    f.client_order_id = r.client_order_id;
    f.exec_id = fmt::format("E{}", ++exec_ids_);
    f.order_id = std::to_string(r.client_order_id);
    f.symbol = symbols_.name(k.order.symbol);
    f.side = k.order.side;
    f.order_qty = k.order.qty;
    f.ts = r.ts;
    f.text = r.reason;
    switch (r.kind) {
      case exec::ReportKind::kAck:
        f.exec_type = '0';
        k.status = '0';
        break;
      case exec::ReportKind::kFill: {
        f.exec_type = 'F';
        k.cum += r.qty;
        k.notional += r.qty * r.price;
        k.fees += r.fee;
        k.status = r.done ? '2' : '1';
        f.last_qty = r.qty;
        f.last_px = r.price;
        f.commission = r.fee;
        std::lock_guard lock(mutex_);
        ++state_.fills;
        state_.positions[f.symbol] += k.order.side == Side::kBuy ? r.qty : -r.qty;
        break;
      }
      case exec::ReportKind::kReject:
        f.exec_type = '8';
        k.status = '8';
        break;
      case exec::ReportKind::kCancelled:
        f.exec_type = '4';
        k.status = '4';
        f.cancel_id = cancel_ids_[r.client_order_id];
        break;
      case exec::ReportKind::kExpired:
        f.exec_type = 'C';
        k.status = 'C';
        break;
      case exec::ReportKind::kCancelReject:
        break;
    }
    if (r.kind != exec::ReportKind::kFill && r.fee != 0) {
      k.fees += r.fee;
      f.commission = r.fee;
    }
    f.ord_status = k.status;
    f.cum_qty = k.cum;
    f.avg_px = k.cum > 0 ? k.notional / k.cum : 0;
    f.leaves_qty = (k.status == '0' || k.status == '1') ? k.order.qty - k.cum : 0;
    bridge_->send(execution_report(f), true);
  }
}

void FixSimulator::reject_message(const FixMessage& m, const std::string& why) {
  {
    std::lock_guard lock(mutex_);
    ++state_.bad_messages;
  }
  // A business-level reject (j) names the problem; the session goes on.
  FixMessage reject;
  reject.type = "j";
  if (const std::string* id = m.get(tag::kClOrdId)) reject.add(379, *id);  // BusinessRejectRefID
  reject.add(372, m.type);                                                 // RefMsgType
  reject.add(380, "0");                                                    // BusinessRejectReason
  reject.add(tag::kText, why);
  bridge_->send(reject, true);
}

void FixSimulator::save_state() {
  if (config_.state_path.empty()) return;
  std::lock_guard lock(save_mutex_);  // drop() saves from another thread
  const std::string json = state().to_json();
  const std::string tmp = config_.state_path + ".tmp";
  if (std::FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fputs(json.c_str(), f);
    std::fclose(f);
    std::error_code ec;
    std::filesystem::rename(tmp, config_.state_path, ec);
  }
}

}  // namespace pairflow::fix
