#include "model/tick_check.h"

#include <fmt/format.h>

#include <cmath>

namespace pairflow {

const char* reject_reason_name(RejectReason reason) {
  switch (reason) {
    case RejectReason::kMalformed:
      return "malformed";
    case RejectReason::kBadPrice:
      return "bad_price";
    case RejectReason::kBadSize:
      return "bad_size";
    case RejectReason::kBadQuote:
      return "bad_quote";
    case RejectReason::kOutOfOrder:
      return "out_of_order";
    case RejectReason::kUnknownSymbol:
      return "unknown_symbol";
    case RejectReason::kCount:
      break;
  }
  return "?";
}

std::optional<RejectReason> check_tick_values(const Tick& tick, std::string* detail) {
  auto fail = [&](RejectReason reason, std::string why) {
    if (detail) *detail = std::move(why);
    return reason;
  };
  if (!std::isfinite(tick.price) || tick.price <= 0)
    return fail(RejectReason::kBadPrice,
                fmt::format("price {} is not a positive number", tick.price));
  if (!std::isfinite(tick.size) || tick.size < 0)
    return fail(RejectReason::kBadSize,
                fmt::format("size {} is not a non-negative number", tick.size));
  const bool has_bid = !std::isnan(tick.bid), has_ask = !std::isnan(tick.ask);
  if (has_bid || has_ask) {
    if (!tick.has_quote() || tick.bid <= 0 || tick.ask <= 0)
      return fail(
          RejectReason::kBadQuote,
          fmt::format("quote bid={} ask={} is not two positive prices", tick.bid, tick.ask));
    if (tick.bid > tick.ask)
      return fail(RejectReason::kBadQuote,
                  fmt::format("crossed quote: bid {} > ask {}", tick.bid, tick.ask));
  }
  return std::nullopt;
}

}  // namespace pairflow
