// Topic names: the public names of pairflow's topics, and the rule every topic name obeys.
//
// A topic name is what Kafka accepts (1 to 249 characters of [a-zA-Z0-9._-], not "." or ".."),
// so the same pipeline runs in process and on Kafka, and a name can never escape a directory when
// topics are written to files (`pairflow run --out-dir`). Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace pairflow::topics {

inline constexpr std::string_view kTicks = "ticks";
inline constexpr std::string_view kSignals = "pairs.signals";
inline constexpr std::string_view kPairsControl = "pairs.control";  // pair (de)activations
inline constexpr std::string_view kOrders = "orders";  // spread intents and slice marks
inline constexpr std::string_view kExecutions = "executions";
inline constexpr std::string_view kPositions = "positions";  // per symbol, after each slice
inline constexpr std::string_view kPnl = "pnl";              // the portfolio's, after each slice
inline constexpr std::string_view kPairPnl = "pnl.pairs";    // per pair, after each slice
inline constexpr std::string_view kControl = "control";      // kill switch commands
inline constexpr std::string_view kControlStatus = "control.status";  // answers to them
inline constexpr std::string_view kJobsStatus = "jobs.status";        // each job's status records
inline constexpr std::string_view kScreener = "screener";    // the trader's screens (opt-in)
inline constexpr std::string_view kAudit = "control.audit";  // kill switch triggers, re-arms
inline constexpr std::string_view kDeadLetterPrefix = "dlq.";

// dlq.<job>: where a job's dead letters go.
inline std::string dead_letter_topic(std::string_view job) {
  return std::string(kDeadLetterPrefix) + std::string(job);
}

// OK, or why `name` cannot be a topic ("topic 'a/b': '/' is not allowed ...").
Status validate_name(std::string_view name);

}  // namespace pairflow::topics
