#include "fix/fix_gateway.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "base/status.h"

namespace pairflow::fix {
namespace {
constexpr double kEps = 1e-9;
}

FixGateway::FixGateway(const GatewayConfig& config, const SymbolTable& symbols)
    : config_(config), symbols_(symbols) {
  if (config_.throttle_per_s < 0) throw UserError("fix.throttle_per_s must be >= 0");
  if (config_.queue_limit == 0) throw UserError("fix.queue_limit must be > 0");
  config_.session.acceptor = false;
  try {
    bridge_ = std::make_unique<QuickFixBridge>(config_.session, static_cast<BridgeEvents&>(*this));
    bridge_->start();
  } catch (const std::runtime_error& e) {
    throw UserError(e.what());
  }
  tokens_ = std::max(1.0, config_.throttle_per_s);
  refilled_ = std::chrono::steady_clock::now();
}

FixGateway::~FixGateway() { bridge_->stop(); }

void FixGateway::on_logon() {
  std::lock_guard lock(mutex_);
  ++counts_.logons;
  changed_.notify_all();
}

void FixGateway::on_logout() {
  std::lock_guard lock(mutex_);
  ++counts_.logouts;
  changed_.notify_all();
}

void FixGateway::on_session_problem(const std::string& what) {
  std::lock_guard lock(mutex_);
  ++counts_.session_problems;
  if (problems_.size() < 100) problems_.push_back(what);
}

void FixGateway::on_message(const FixMessage& m) {
  Result<ExecReport> r =
      m.type == "8" ? read_execution_report(m)
      : m.type == "9"
          ? read_cancel_reject(m)
          : Result<ExecReport>(Status(StatusCode::kParseError,
                                      fmt::format("message type {} is not handled", m.type)));
  std::lock_guard lock(mutex_);
  if (!r) {
    ++counts_.bad_reports;
    if (problems_.size() < 100)
      problems_.push_back(fmt::format("unreadable {} message: {}", m.type, r.status().message()));
    return;
  }
  if (r->status_answer) {
    status_answers_[r->report.client_order_id] = std::move(*r);
    changed_.notify_all();
    return;
  }
  inbox_.push_back(std::move(*r));
  changed_.notify_all();
}

bool FixGateway::wait_for_logon(double timeout_s) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::duration<double>(timeout_s),
                           [&] { return bridge_->logged_on(); });
}

void FixGateway::flush() {
  if (outbox_.empty()) return;
  if (config_.throttle_per_s > 0) {
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - refilled_).count();
    tokens_ =
        std::min(std::max(1.0, config_.throttle_per_s), tokens_ + elapsed * config_.throttle_per_s);
    refilled_ = now;
  }
  while (!outbox_.empty()) {
    if (config_.throttle_per_s > 0 && tokens_ < 1) {
      ++counts_.throttled;
      return;
    }
    if (!bridge_->send(outbox_.front())) return;  // not logged on: waits for the logon
    if (config_.throttle_per_s > 0) tokens_ -= 1;
    outbox_.pop_front();
  }
}

void FixGateway::send(const Order& order, Timestamp now) {
  orders_[order.client_order_id] = order;
  if (outbox_.size() >= config_.queue_limit) {
    ++counts_.queue_full;
    local_.push_back({.kind = exec::ReportKind::kReject,
                      .client_order_id = order.client_order_id,
                      .ts = now,
                      .done = true,
                      .reason = "fix_queue_full"});
    return;
  }
  Order stamped = order;
  stamped.ts = std::max(order.ts, now);
  outbox_.push_back(new_order_single(stamped, symbols_, config_.account));
  ++counts_.orders_sent;
  flush();
}

void FixGateway::cancel(std::uint64_t id, Timestamp now) {
  auto it = orders_.find(id);
  if (it == orders_.end() || outbox_.size() >= config_.queue_limit) {
    if (it != orders_.end()) ++counts_.queue_full;
    local_.push_back({.kind = exec::ReportKind::kCancelReject,
                      .client_order_id = id,
                      .ts = now,
                      .reason = it == orders_.end() ? "unknown_order" : "fix_queue_full"});
    return;
  }
  outbox_.push_back(order_cancel_request(it->second, symbols_, now));
  ++counts_.cancels_sent;
  flush();
}

void FixGateway::advance(Timestamp) { flush(); }

void FixGateway::poll(std::vector<exec::BrokerReport>& out) {
  flush();
  out.insert(out.end(), local_.begin(), local_.end());
  local_.clear();
  std::deque<ExecReport> inbox;
  {
    std::lock_guard lock(mutex_);
    inbox.swap(inbox_);
  }
  for (ExecReport& r : inbox) {
    const std::uint64_t id = r.report.client_order_id;
    if (!orders_.count(id)) {
      std::lock_guard lock(mutex_);
      ++counts_.unknown_reports;
      continue;
    }
    if (r.report.kind == exec::ReportKind::kCancelReject) {
      out.push_back(r.report);
      continue;
    }
    const double booked = cum_[id];
    if (r.report.kind == exec::ReportKind::kFill) {
      if (r.cum_qty <= booked + kEps) {  // resent, or covered by the reconciliation
        std::lock_guard lock(mutex_);
        ++counts_.duplicate_reports;
        continue;
      }
      r.report.qty = r.cum_qty - booked;
      cum_[id] = r.cum_qty;
      if (r.report.done) done_.insert(id);
      acked_.insert(id);
      out.push_back(r.report);
      continue;
    }
    if (done_.count(id) || (r.report.kind == exec::ReportKind::kAck && acked_.count(id))) {
      std::lock_guard lock(mutex_);
      ++counts_.duplicate_reports;
      continue;
    }
    if (r.report.kind == exec::ReportKind::kAck) acked_.insert(id);
    if (r.report.done) done_.insert(id);
    out.push_back(r.report);
  }
}

exec::BrokerView FixGateway::view(const std::vector<Order>& orders) {
  exec::BrokerView view;
  const auto& s = config_.session;
  if (!wait_for_logon(config_.logon_timeout_s)) {
    throw UserError(fmt::format(
        "fix: no logon to {}:{} as {} -> {} within {} s, so the journal cannot be reconciled "
        "(is the counterparty up? try pairflow fix-sim)",
        s.host, s.port, s.sender_comp_id, s.target_comp_id, config_.logon_timeout_s));
  }
  if (orders.empty()) return view;
  {
    std::lock_guard lock(mutex_);
    for (const Order& o : orders) status_answers_.erase(o.client_order_id);
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(config_.status_timeout_s));
  for (const Order& o : orders) {
    orders_[o.client_order_id] = o;
    while (!bridge_->send(order_status_request(o, symbols_))) {  // a drop: wait for the logon
      if (std::chrono::steady_clock::now() > deadline)
        throw UserError(
            fmt::format("fix: the session to {}:{} dropped during reconciliation", s.host, s.port));
      wait_for_logon(0.1);
    }
  }
  std::unique_lock lock(mutex_);
  const bool all = changed_.wait_until(lock, deadline, [&] {
    return std::all_of(orders.begin(), orders.end(),
                       [&](const Order& o) { return status_answers_.count(o.client_order_id); });
  });
  if (!all) {
    std::size_t missing = 0;
    for (const Order& o : orders) missing += !status_answers_.count(o.client_order_id);
    throw UserError(fmt::format(
        "fix: {} of {} order status requests unanswered within {} s; the journal cannot be "
        "reconciled",
        missing, orders.size(), config_.status_timeout_s));
  }
  for (const Order& o : orders) {
    const ExecReport& a = status_answers_.at(o.client_order_id);
    if (a.unknown_order) continue;
    exec::BrokerOrder& b = view.orders[o.client_order_id];
    b.client_order_id = o.client_order_id;
    b.symbol = o.symbol;
    b.side = o.side;
    b.qty = o.qty;
    b.filled = a.cum_qty;
    b.avg_price = a.avg_px;
    b.fees = a.report.fee;
    const char st = a.ord_status;
    b.open = !(st == '2' || st == '4' || st == '8' || st == 'C');
    view.positions[o.symbol] += o.side == Side::kBuy ? a.cum_qty : -a.cum_qty;
    cum_[o.client_order_id] = a.cum_qty;
    acked_.insert(o.client_order_id);
    if (!b.open) done_.insert(o.client_order_id);
  }
  return view;
}

bool FixGateway::wait_for_reports(std::chrono::microseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return !inbox_.empty(); });
}

GatewayCounts FixGateway::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

std::vector<std::string> FixGateway::take_problems() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.swap(problems_);
  return out;
}

}  // namespace pairflow::fix
