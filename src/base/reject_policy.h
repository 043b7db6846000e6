// RejectPolicy: how many bad input rows a run tolerates, the one rule behind `input.max_rejects`
// and `--max-rejects`: 0 fails at the first bad row (the default), N fails at the (N+1)th, -1
// counts them all and carries on. Every reject is counted and the first kept, so a run that
// carried on still says what it skipped. Single-threaded (the reading thread).
#pragma once

#include <cstdint>
#include <string>

namespace pairflow {

class RejectPolicy {
 public:
  // `setting` names the knob in messages ("input.max_rejects", "--max-rejects").
  RejectPolicy(std::int64_t max_rejects, std::string setting)
      : max_(max_rejects), setting_(std::move(setting)) {}
  // Counts a rejected row ("FILE:LINE: problem"); throws UserError with it when over the limit.
  void on_reject(const std::string& where_and_why);
  std::int64_t count() const { return count_; }
  const std::string& first() const { return first_; }

 private:
  std::int64_t max_;
  std::string setting_;
  std::int64_t count_ = 0;
  std::string first_;
};

}  // namespace pairflow
