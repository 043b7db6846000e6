// Broker: where orders go once they passed risk. Implementations: the paper broker (in process,
// event time, exec/paper_broker.h) and the FIX 4.4 gateway (fix/fix_gateway.h). The execution
// service sends and cancels, polls reports, and at start-up reconciles its journal with view().
//
// Reports arrive in the order the broker produced them. Single-threaded from the caller's side: a
// broker with its own threads (FIX) queues reports for poll().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/messages.h"

namespace pairflow::exec {

enum class ReportKind : std::uint8_t { kAck, kFill, kReject, kCancelled, kExpired, kCancelReject };
const char* to_string(ReportKind kind);

struct BrokerReport {
  ReportKind kind = ReportKind::kAck;
  std::uint64_t client_order_id = 0;
  Timestamp ts = 0;
  double qty = 0;  // kFill: this fill's shares
  double price = kNaN;
  double fee = 0;
  bool done = false;  // the order has nothing left (last fill, reject, cancel, expiry)
  std::string reason;
};

// What a broker knows of one order.
struct BrokerOrder {
  std::uint64_t client_order_id = 0;
  SymbolId symbol = 0;
  Side side = Side::kBuy;
  double qty = 0, filled = 0, avg_price = kNaN, fees = 0;
  bool open = false;
};

struct BrokerView {
  std::map<std::uint64_t, BrokerOrder> orders;  // every order it received
  std::map<SymbolId, double> positions;         // signed shares from its fills
};

class Broker {
 public:
  virtual ~Broker() = default;
  virtual void send(const Order& order, Timestamp now) = 0;
  virtual void cancel(std::uint64_t client_order_id, Timestamp now) = 0;
  // Event-time brokers process what has arrived by `now`; live brokers need nothing.
  virtual void advance(Timestamp now) {}
  // Appends the reports produced since the last poll.
  virtual void poll(std::vector<BrokerReport>& out) = 0;
  // The broker's own record, for reconciliation at start-up: what it knows of these orders (the
  // journal's; a broker may report more) and its positions. Throws UserError when the broker
  // cannot be asked (a FIX session that does not log on).
  virtual BrokerView view(const std::vector<Order>& orders) = 0;
};

}  // namespace pairflow::exec
