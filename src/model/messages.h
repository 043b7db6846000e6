// The messages that flow on pairflow's topics (see ARCHITECTURE.md for the topic table).
//
// In process they are plain structs passed by reference: no serialization, no allocation. Symbols
// are dense SymbolIds from the run's SymbolTable; a pair is an index into the run's pair list.
// Event time is ns since the epoch. Optional prices (bid/ask, limit) are NaN when absent.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "base/symbols.h"
#include "base/time.h"

namespace pairflow {

using PairId = std::uint32_t;
inline constexpr PairId kNoPair = std::numeric_limits<PairId>::max();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Tick {
  Timestamp ts = 0;
  SymbolId symbol = 0;
  double price = kNaN;
  double size = 0;
  double bid = kNaN;
  double ask = kNaN;
  // Displayed size at the bid and ask, when the data carries it (CSV columns bid_size, ask_size):
  // the paper broker fills no more than this at the touch.
  double bid_size = kNaN;
  double ask_size = kNaN;
  bool has_quote() const { return std::isfinite(bid) && std::isfinite(ask); }
};

// OHLCV bar over [ts, ts + interval), labelled by its start.
struct Bar {
  Timestamp ts = 0;
  SymbolId symbol = 0;
  double open = kNaN, high = kNaN, low = kNaN, close = kNaN;
  double volume = 0;
  double vwap = kNaN;
  std::uint32_t count = 0;
};

enum class SignalAction : std::uint8_t { kHold, kEnterLong, kEnterShort, kExit, kStop };
const char* to_string(SignalAction action);

// Long spread = long y, short hedge_ratio units of x (in log-price terms).
struct Signal {
  Timestamp ts = 0;
  PairId pair = kNoPair;
  double z = kNaN;
  double hedge_ratio = kNaN;
  SignalAction action = SignalAction::kHold;
};

enum class Side : std::uint8_t { kBuy, kSell };
const char* to_string(Side side);
enum class OrderType : std::uint8_t { kMarket, kLimit };
const char* to_string(OrderType type);

struct Order {
  std::uint64_t client_order_id = 0;  // deterministic: derived from the intent and the leg
  Timestamp ts = 0;
  SymbolId symbol = 0;
  Side side = Side::kBuy;
  double qty = 0;  // shares, > 0
  OrderType type = OrderType::kMarket;
  double limit = kNaN;
  PairId pair = kNoPair;  // the pair whose signal caused it, when there is exactly one
};

// What happened to an order: acknowledged by the broker, (partially) filled, or ended without a
// (complete) fill. A rejection carries a reason code (a risk denial such as "price_collar", or
// the broker's).
enum class ExecStatus : std::uint8_t {
  kFilled,
  kPartiallyFilled,
  kRejected,
  kAcknowledged,
  kCancelled,
  kExpired
};
const char* to_string(ExecStatus status);

struct Execution {
  std::uint64_t client_order_id = 0;
  Timestamp ts = 0;
  SymbolId symbol = 0;
  Side side = Side::kBuy;
  double qty = 0;  // this fill's quantity (0 for acks, rejections, cancels)
  double price = kNaN;
  double fee = 0;
  ExecStatus status = ExecStatus::kFilled;
  const char* reason = "";  // static text: a reason code for rejections, "" otherwise
  PairId pair = kNoPair;
};

struct Position {
  Timestamp ts = 0;
  SymbolId symbol = 0;
  double qty = 0;        // signed shares
  double avg_price = 0;  // average entry price of the open quantity
  double mark = kNaN;    // last mark price
  double realized_pnl = 0;
  double unrealized_pnl = 0;
};

struct PnL {
  Timestamp ts = 0;
  double cash = 0;
  double equity = 0;     // cash + marked positions
  double gross_pnl = 0;  // P&L before fees
  double fees = 0;
  double net_pnl = 0;
};

}  // namespace pairflow
