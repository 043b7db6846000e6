// Event time: nanoseconds since the Unix epoch (UTC), and its text forms.
//
// Every message carries a Timestamp. parse_timestamp accepts what input files use: ISO-8601 UTC
// ("2024-01-02T14:30:00.123Z", space or 'T', optional 'Z' / "+00:00", up to 9 fraction digits), its
// basic form ("20240102", "20240102T143000Z"), or an integer epoch: seconds below 1e11,
// milliseconds below 1e14, microseconds below 1e17, nanoseconds above (decimal seconds such as
// "1704205800.25" also work). Eight digits that form a date are that date: "20240102" is
// 2024-01-02, not epoch seconds in August 1970. Pure functions, any
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace pairflow {

using Timestamp = std::int64_t;  // ns since 1970-01-01T00:00:00Z

inline constexpr Timestamp kNanosPerSecond = 1'000'000'000;
inline constexpr Timestamp kNanosPerMinute = 60 * kNanosPerSecond;
inline constexpr Timestamp kNanosPerHour = 60 * kNanosPerMinute;
inline constexpr Timestamp kNanosPerDay = 24 * kNanosPerHour;
// Supported event times: 1900-01-01 to 2199-12-31, well inside int64 nanoseconds, so interval
// arithmetic (alignment, bar ends) can never overflow.
inline constexpr Timestamp kMinTimestamp = -25567 * kNanosPerDay;  // 1900-01-01T00:00:00Z
inline constexpr Timestamp kMaxTimestamp = 84006 * kNanosPerDay;   // 2200-01-01T00:00:00Z

// Days since the epoch of a proleptic Gregorian civil date.
std::int64_t days_from_civil(int year, unsigned month, unsigned day);

Result<Timestamp> parse_timestamp(std::string_view text);

// ISO-8601 UTC with millisecond precision when exact, nanoseconds otherwise:
// 2024-01-02T14:30:00.123Z
std::string format_timestamp(Timestamp ts);

// Parses a duration such as "1s", "500ms", "1m", "5min", "1h", "1d" or a bare number of seconds.
Result<Timestamp> parse_duration(std::string_view text);

// Start of the epoch-aligned interval that contains ts (floor, also for times before 1970).
inline Timestamp align_down(Timestamp ts, Timestamp interval) {
  Timestamp r = ts % interval;
  return r < 0 ? ts - r - interval : ts - r;
}

}  // namespace pairflow
