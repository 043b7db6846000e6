// InfluxDB line protocol from pairflow messages: what the `influx` sink posts to InfluxDB 1.x/2.x,
// VictoriaMetrics and QuestDB.
//
// One wide measurement per message type (the history table name: ticks, bars, pnl, ...), tagged by
// `topic` and by the message's `symbol` or `pair` (else `key` = the message key): never one
// measurement per symbol or pair. Fields: numbers as floats (integers beyond 2^53, such as random
// order ids, as strings with their exact digits), booleans, strings (escaped), nested values as
// JSON strings; nulls are left out. The timestamp is the event time in nanoseconds, so writing a
// point again overwrites it. Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "base/time.h"

namespace pairflow::history {

// Appends one line (with '\n') for a JSON message to `out`; on a bad message `out` is unchanged
// and the status says why ("malformed: ...", "no_event_time: ...", "string_too_long: ...").
Status append_line(std::string& out, std::string_view topic, std::string_view key,
                   std::string_view json, Timestamp message_ts, std::size_t max_string = 4096);

// Escaping per the line protocol: measurement (commas, spaces), tag keys/values and field keys
// (commas, equals signs, spaces), string field values (double quotes, backslashes).
void append_escaped_measurement(std::string& out, std::string_view text);
void append_escaped_tag(std::string& out, std::string_view text);
void append_escaped_string_field(std::string& out, std::string_view text);

}  // namespace pairflow::history
