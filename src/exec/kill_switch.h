// KillSwitch: the latched stop of trading, with three modes of increasing force:
//   pause    no new entries; exits and working orders go on
//   flatten  cancel working orders, then close every position with hedged exits; no entries
//   halt     nothing is sent any more (working orders are cancelled)
// A trigger latches: a weaker mode while a stronger one holds is recorded and ignored; only an
// explicit rearm() returns to normal trading (a kill switch that could only stop, or that resumed
// by itself, is what operators of other systems complain about). Every trigger and re-arm is kept
// in the audit trail with who or what did it (a risk rule, the control topic, `pairflow ctl`,
// SIGUSR1) and is handed to the audit sink (a JSON-lines file) as it happens.
//
// Single-threaded: owned by the execution service's thread; triggers from other threads go through
// its control queue.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/time.h"

namespace pairflow::exec {

enum class KillMode : std::uint8_t { kNone, kPause, kFlatten, kHalt };
const char* to_string(KillMode mode);
// "pause", "flatten", "halt" (and "none"); false for anything else.
bool parse_kill_mode(std::string_view text, KillMode& mode);

struct AuditEntry {
  Timestamp ts = 0;
  std::string
      action;  // "trigger", "rearm", "resume" (or "ignored": a weaker trigger while latched)
  KillMode mode = KillMode::kNone;
  std::string by;  // who or what: "risk:daily_loss", "ctl", "control-topic", "signal:SIGUSR1"
  std::string reason;
  std::string to_json() const;
};

class KillSwitch {
 public:
  using AuditSink = std::function<void(const AuditEntry&)>;
  explicit KillSwitch(AuditSink sink = {}) : sink_(std::move(sink)) {}

  // Returns true when the mode changed (the caller acts on it: cancels, flattens).
  bool trigger(KillMode mode, Timestamp ts, std::string by, std::string reason);
  // action: "rearm", or "resume" when an operator lifts their own pause (the audit tells them apart).
  void rearm(Timestamp ts, std::string by, std::string reason = "", std::string action = "rearm");
  KillMode mode() const { return mode_; }
  bool allows_entries() const { return mode_ == KillMode::kNone; }
  const std::vector<AuditEntry>& audit() const { return audit_; }

 private:
  void record(AuditEntry entry);
  KillMode mode_ = KillMode::kNone;
  std::vector<AuditEntry> audit_;
  AuditSink sink_;
};

}  // namespace pairflow::exec
