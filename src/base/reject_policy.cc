#include "base/reject_policy.h"

#include <fmt/format.h>

#include "base/status.h"

namespace pairflow {

void RejectPolicy::on_reject(const std::string& where_and_why) {
  if (count_++ == 0) first_ = where_and_why;
  if (max_ < 0 || count_ <= max_) return;
  if (max_ == 0)
    throw UserError(fmt::format("{} (set {} to skip bad rows)", where_and_why, setting_));
  throw UserError(fmt::format("{} (more than {} {} bad rows)", where_and_why, setting_, max_));
}

}  // namespace pairflow
