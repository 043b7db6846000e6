// The FIX 4.4 application messages pairflow speaks, built from and read into its own types: the
// gateway writes NewOrderSingle (D), OrderCancelRequest (F) and OrderStatusRequest (H) and reads
// ExecutionReport (8) and OrderCancelReject (9); fix-sim does the reverse. Reading checks every
// field it uses: a missing, garbled or out-of-range field is an error naming the tag, never a
// crash or a guess.
//
// ClOrdID (11) is the order's deterministic client order id in decimal; a cancel request's own
// ClOrdID is "C" followed by it, with OrigClOrdID (41) the order's. Times (TransactTime, 60) are
// UTC "YYYYMMDD-HH:MM:SS.nnnnnnnnn" (event time, to the nanosecond). Stateless functions; any
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/symbols.h"
#include "exec/broker.h"
#include "fix/quickfix_bridge.h"
#include "model/messages.h"

namespace pairflow::fix {

namespace tag {
inline constexpr int kAccount = 1, kAvgPx = 6, kClOrdId = 11, kCommission = 12, kCommType = 13,
                     kCumQty = 14, kExecId = 17, kHandlInst = 21, kLastPx = 31, kLastQty = 32,
                     kOrderId = 37, kOrderQty = 38, kOrdStatus = 39, kOrdType = 40,
                     kOrigClOrdId = 41, kPrice = 44, kSide = 54, kSymbol = 55, kText = 58,
                     kTimeInForce = 59, kTransactTime = 60, kOrdRejReason = 103,
                     kCxlRejReason = 102, kCxlRejResponseTo = 434, kExecType = 150,
                     kLeavesQty = 151, kOrdStatusReqId = 790;
}  // namespace tag

std::string format_fix_time(Timestamp ts);
Result<Timestamp> parse_fix_time(std::string_view text);

FixMessage new_order_single(const Order& order, const SymbolTable& symbols,
                            const std::string& account);
FixMessage order_cancel_request(const Order& order, const SymbolTable& symbols, Timestamp now);
FixMessage order_status_request(const Order& order, const SymbolTable& symbols);

// An order as fix-sim reads it from D (interning its symbol).
Result<Order> read_new_order(const FixMessage& m, SymbolTable& symbols);
// A cancel as fix-sim reads it from F: the id of the order to cancel and the request's time.
struct CancelRequest {
  std::uint64_t client_order_id = 0;
  std::string cancel_id;
  Timestamp ts = 0;
};
Result<CancelRequest> read_cancel_request(const FixMessage& m);
Result<std::uint64_t> read_status_request(const FixMessage& m);

// What the gateway reads from 8 and 9.
struct ExecReport {
  exec::BrokerReport report;  // kind, id, ts, this fill's qty/price/fee, done, reason
  char exec_type = 0, ord_status = 0;
  bool status_answer = false;  // ExecType I: an answer to an OrderStatusRequest
  bool unknown_order = false;  // the counterparty does not know the order (status answer)
  double cum_qty = 0, avg_px = kNaN, leaves_qty = 0;
  std::string exec_id;
  Side side = Side::kBuy;
  std::string symbol;
};
Result<ExecReport> read_execution_report(const FixMessage& m);
Result<ExecReport> read_cancel_reject(const FixMessage& m);

// What fix-sim writes.
struct ReportFields {
  char exec_type = '0', ord_status = '0';
  std::uint64_t client_order_id = 0;
  std::string exec_id, order_id, symbol, cancel_id, text;
  Side side = Side::kBuy;
  double order_qty = 0, last_qty = 0, last_px = 0, cum_qty = 0, avg_px = 0, leaves_qty = 0;
  double commission = 0;  // a fill's fees; an order status answer's: the order's total fees
  Timestamp ts = 0;
  int reject_reason = -1;  // OrdRejReason (103), when >= 0
};
FixMessage execution_report(const ReportFields& f);
FixMessage cancel_reject(std::uint64_t client_order_id, const std::string& cancel_id,
                         char ord_status, Timestamp ts, const std::string& text);

}  // namespace pairflow::fix
