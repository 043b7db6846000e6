#include "model/json.h"

#include <fmt/format.h>

namespace pairflow {

const char* to_string(SignalAction action) {
  switch (action) {
    case SignalAction::kHold:
      return "hold";
    case SignalAction::kEnterLong:
      return "enter_long";
    case SignalAction::kEnterShort:
      return "enter_short";
    case SignalAction::kExit:
      return "exit";
    case SignalAction::kStop:
      return "stop";
  }
  return "?";
}

const char* to_string(Side side) { return side == Side::kBuy ? "buy" : "sell"; }
const char* to_string(OrderType type) { return type == OrderType::kMarket ? "market" : "limit"; }
const char* to_string(ExecStatus status) {
  switch (status) {
    case ExecStatus::kFilled:
      return "filled";
    case ExecStatus::kPartiallyFilled:
      return "partially_filled";
    case ExecStatus::kRejected:
      return "rejected";
    case ExecStatus::kAcknowledged:
      return "acknowledged";
    case ExecStatus::kCancelled:
      return "cancelled";
    case ExecStatus::kExpired:
      return "expired";
  }
  return "?";
}

std::string to_json(const Tick& m, const SymbolTable& symbols) {
  std::string out =
      fmt::format(R"({{"ts":{},"symbol":{},"price":{},"size":{})", m.ts,
                  json_string(symbols.name(m.symbol)), json_number(m.price), json_number(m.size));
  if (m.has_quote())
    out += fmt::format(R"(,"bid":{},"ask":{})", json_number(m.bid), json_number(m.ask));
  if (std::isfinite(m.bid_size) && std::isfinite(m.ask_size)) {
    out += fmt::format(R"(,"bid_size":{},"ask_size":{})", json_number(m.bid_size),
                       json_number(m.ask_size));
  }
  return out + "}";
}

std::string to_json(const Bar& m, const SymbolTable& symbols) {
  return fmt::format(
      R"({{"ts":{},"symbol":{},"open":{},"high":{},"low":{},"close":{},"volume":{},"vwap":{},"count":{}}})",
      m.ts, json_string(symbols.name(m.symbol)), json_number(m.open), json_number(m.high),
      json_number(m.low), json_number(m.close), json_number(m.volume), json_number(m.vwap),
      m.count);
}

std::string to_json(const Signal& m) {
  return fmt::format(R"({{"ts":{},"pair":{},"z":{},"hedge_ratio":{},"action":"{}"}})", m.ts, m.pair,
                     json_number(m.z), json_number(m.hedge_ratio), to_string(m.action));
}

std::string to_json(const Order& m, const SymbolTable& symbols) {
  std::string out =
      fmt::format(R"({{"client_order_id":{},"ts":{},"symbol":{},"side":"{}","qty":{},"type":"{}")",
                  m.client_order_id, m.ts, json_string(symbols.name(m.symbol)), to_string(m.side),
                  json_number(m.qty), to_string(m.type));
  if (m.type == OrderType::kLimit) out += fmt::format(R"(,"limit":{})", json_number(m.limit));
  if (m.pair != kNoPair) out += fmt::format(R"(,"pair":{})", m.pair);
  return out + "}";
}

std::string to_json(const Execution& m, const SymbolTable& symbols) {
  std::string out = fmt::format(
      R"({{"client_order_id":{},"ts":{},"symbol":{},"side":"{}","qty":{},"price":{},"fee":{},"status":"{}")",
      m.client_order_id, m.ts, json_string(symbols.name(m.symbol)), to_string(m.side),
      json_number(m.qty), json_number(m.price), json_number(m.fee), to_string(m.status));
  if (m.reason && *m.reason) out += fmt::format(R"(,"reason":{})", json_string(m.reason));
  if (m.pair != kNoPair) out += fmt::format(R"(,"pair":{})", m.pair);
  return out + "}";
}

std::string to_json(const Position& m, const SymbolTable& symbols) {
  return fmt::format(
      R"({{"ts":{},"symbol":{},"qty":{},"avg_price":{},"mark":{},"realized_pnl":{},"unrealized_pnl":{}}})",
      m.ts, json_string(symbols.name(m.symbol)), json_number(m.qty), json_number(m.avg_price),
      json_number(m.mark), json_number(m.realized_pnl), json_number(m.unrealized_pnl));
}

std::string to_json(const PnL& m) {
  return fmt::format(R"({{"ts":{},"cash":{},"equity":{},"gross_pnl":{},"fees":{},"net_pnl":{}}})",
                     m.ts, json_number(m.cash), json_number(m.equity), json_number(m.gross_pnl),
                     json_number(m.fees), json_number(m.net_pnl));
}

}  // namespace pairflow
