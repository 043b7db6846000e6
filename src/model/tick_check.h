// Tick value checks shared by every tick consumer (the pipeline, the bars job, the CSV reader),
// and the reasons a tick is rejected.
//
// check_tick_values() judges what one tick says on its own (price, size, quote); time order and
// symbol ids are the consumer's to judge, because only it knows what came before. Pure functions,
// any thread; nothing allocates unless a tick is rejected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/messages.h"

namespace pairflow {

enum class RejectReason : std::uint8_t {
  kMalformed,      // the row could not be parsed
  kBadPrice,       // NaN, infinite, zero or negative price
  kBadSize,        // negative or non-finite size
  kBadQuote,       // a bid or ask that is not a positive number, or bid > ask
  kOutOfOrder,     // older than the previous tick
  kUnknownSymbol,  // a symbol id outside the symbol table
  kCount
};

// "malformed", "bad_price", ...: the names used in summaries and docs.
const char* reject_reason_name(RejectReason reason);

// The reason `tick` cannot be used, with a one-line explanation in `detail`; nullopt when its
// values are fine. A NaN bid and ask together mean "no quote" and are fine.
std::optional<RejectReason> check_tick_values(const Tick& tick, std::string* detail);

}  // namespace pairflow
