// The event time of a message payload, for stages that order messages by it (the event-time merge
// of partitioned inputs). Pure function, any thread (a parser per thread).
#pragma once

#include <optional>
#include <string_view>

#include "base/time.h"

namespace pairflow {

// The `ts` field of a payload in the binary codec (any schema) or of a JSON object (integer epoch
// nanoseconds, or text parse_timestamp() accepts); nullopt when there is none.
std::optional<Timestamp> event_time_of(std::string_view payload);

}  // namespace pairflow
