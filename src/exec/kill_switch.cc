#include "exec/kill_switch.h"

#include "base/json_writer.h"

namespace pairflow::exec {

const char* to_string(KillMode mode) {
  switch (mode) {
    case KillMode::kNone:
      return "none";
    case KillMode::kPause:
      return "pause";
    case KillMode::kFlatten:
      return "flatten";
    case KillMode::kHalt:
      return "halt";
  }
  return "?";
}

bool parse_kill_mode(std::string_view text, KillMode& mode) {
  for (KillMode m : {KillMode::kNone, KillMode::kPause, KillMode::kFlatten, KillMode::kHalt}) {
    if (text == to_string(m)) {
      mode = m;
      return true;
    }
  }
  return false;
}

std::string AuditEntry::to_json() const {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("ts", ts).field("action", action).field("mode", to_string(mode));
  w.field("by", by).field("reason", reason).end_object();
  return out;
}

void KillSwitch::record(AuditEntry entry) {
  if (sink_) sink_(entry);
  audit_.push_back(std::move(entry));
}

bool KillSwitch::trigger(KillMode mode, Timestamp ts, std::string by, std::string reason) {
  if (mode == KillMode::kNone) return false;
  if (mode <= mode_) {
    record({ts, "ignored", mode, std::move(by), "latched at " + std::string(to_string(mode_))});
    return false;
  }
  mode_ = mode;
  record({ts, "trigger", mode, std::move(by), std::move(reason)});
  return true;
}

void KillSwitch::rearm(Timestamp ts, std::string by, std::string reason, std::string action) {
  mode_ = KillMode::kNone;
  record({ts, std::move(action), KillMode::kNone, std::move(by), std::move(reason)});
}

}  // namespace pairflow::exec
