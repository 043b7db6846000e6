#include "exec/order.h"

namespace pairflow::exec {
namespace {

// SplitMix64's finaliser: a well-mixed 64-bit hash of a 64-bit key.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

const char* to_string(OrderStatus status) {
  switch (status) {
    case OrderStatus::kNew:
      return "new";
    case OrderStatus::kSent:
      return "sent";
    case OrderStatus::kAcknowledged:
      return "acknowledged";
    case OrderStatus::kPartiallyFilled:
      return "partially_filled";
    case OrderStatus::kFilled:
      return "filled";
    case OrderStatus::kCancelled:
      return "cancelled";
    case OrderStatus::kRejected:
      return "rejected";
    case OrderStatus::kExpired:
      return "expired";
  }
  return "?";
}

bool can_move(OrderStatus from, OrderStatus to) {
  if (is_terminal(from)) return false;
  switch (to) {
    case OrderStatus::kNew:
      return false;
    case OrderStatus::kSent:
      return from == OrderStatus::kNew;
    case OrderStatus::kAcknowledged:
      return from == OrderStatus::kNew || from == OrderStatus::kSent;
    case OrderStatus::kPartiallyFilled:
      return true;  // from any live state, and again with each partial fill
    default:
      return true;  // filled, cancelled, rejected, expired end any live order
  }
}

const char* to_string(LegRole role) {
  switch (role) {
    case LegRole::kY:
      return "y";
    case LegRole::kX:
      return "x";
    case LegRole::kUnwind:
      return "unwind";
    case LegRole::kChase:
      return "chase";
  }
  return "?";
}

const char* to_string(IntentKind kind) {
  switch (kind) {
    case IntentKind::kEntry:
      return "entry";
    case IntentKind::kExit:
      return "exit";
    case IntentKind::kFlatten:
      return "flatten";
  }
  return "?";
}

std::uint64_t intent_id(PairId pair, Timestamp ts, IntentKind kind) {
  return mix(mix(static_cast<std::uint64_t>(ts)) ^ (static_cast<std::uint64_t>(pair) << 8) ^
             static_cast<std::uint64_t>(kind));
}

std::uint64_t client_order_id(std::uint64_t intent, LegRole role, int attempt) {
  // 63 bits, never 0: positive in every language's signed 64-bit integer.
  const std::uint64_t id = mix(intent ^ (static_cast<std::uint64_t>(role) << 56) ^
                               static_cast<std::uint64_t>(attempt)) >>
                           1;
  return id == 0 ? 1 : id;
}

}  // namespace pairflow::exec
