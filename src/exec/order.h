// Orders as the execution service tracks them: the order state machine, spread intents (a pair's
// two legs as one trade), and deterministic client order ids.
//
//   new -> sent -> acknowledged -> partially filled -> filled
//                                                   \-> cancelled | rejected | expired
// (sent and acknowledged may be skipped by a broker that fills at once; a rejection may come at
// any point before a fill completes). Client order ids are derived from the intent and the leg,
// never from wall-clock time or a counter that restarts, so a replayed decision gets the same id
// and a broker (or the journal) recognises it. Value types; any thread.
#pragma once

#include <cstdint>
#include <string>

#include "model/messages.h"

namespace pairflow::exec {

enum class OrderStatus : std::uint8_t {
  kNew,
  kSent,
  kAcknowledged,
  kPartiallyFilled,
  kFilled,
  kCancelled,
  kRejected,
  kExpired
};
const char* to_string(OrderStatus status);
// Filled, cancelled, rejected or expired: nothing more will happen to the order.
inline bool is_terminal(OrderStatus s) { return s >= OrderStatus::kFilled; }
// The transitions of the state machine above (a report that would go backwards is refused).
bool can_move(OrderStatus from, OrderStatus to);

// What an order is for within its intent.
enum class LegRole : std::uint8_t { kY, kX, kUnwind, kChase };
const char* to_string(LegRole role);

// Why an intent exists: a pair's signal, or the kill switch closing a pair.
enum class IntentKind : std::uint8_t { kEntry, kExit, kFlatten };
const char* to_string(IntentKind kind);

// One leg of an intent: signed shares of one symbol (+ buy, - sell).
struct LegRequest {
  SymbolId symbol = 0;
  double qty = 0;
};

// A pair's entry or exit as one trade: both legs, sent together, tracked together.
struct SpreadIntent {
  std::uint64_t id = 0;  // intent_id()
  PairId pair = kNoPair;
  Timestamp ts = 0;
  IntentKind kind = IntentKind::kEntry;
  LegRequest y, x;
  double hedge_ratio = kNaN;  // the model's, at the decision (reports only)
};

// The order the execution service keeps of each order it sent: the latest state and fills.
struct OrderRecord {
  Order order;
  std::uint64_t intent = 0;
  LegRole role = LegRole::kY;
  OrderStatus status = OrderStatus::kNew;
  double filled = 0;        // shares filled so far
  double avg_price = kNaN;  // of the filled shares
  double fees = 0;
  double ideal_price = kNaN;  // the touch when it was decided: the cost of realism is measured
                              // against it
  Timestamp updated = 0;
  std::string reason;  // why it was rejected, cancelled or expired
  double remaining() const { return order.qty - filled; }
};

// intent_id(pair, ts, kind): the same decision always gets the same id.
std::uint64_t intent_id(PairId pair, Timestamp ts, IntentKind kind);
// The client order id of an intent's order: role and attempt (chases and unwinds retry).
std::uint64_t client_order_id(std::uint64_t intent, LegRole role, int attempt);

}  // namespace pairflow::exec
