// HistoryWarmup: the warm-up of a stateful built-in job (bars, features, trader; the pair_actors
// job reads its own input topic per pair, pair_actors_job.cc) from the history
// store. Params: `warmup` ("all", or a duration such as 2d: how much history to replay) and
// `history` (the file; default $PAIRFLOW_HISTORY, which a pipeline's `history = FILE` sets),
// `warmup_topic` (default "ticks"). Before the first live tick the job replays the recorded ticks
// that precede it through the same code, its outputs suppressed, so a fresh instance or a restart
// continues with full rolling windows instead of a new warm-up period: with `warmup = "all"` its
// decisions equal those of an instance that never stopped. Internal to jobs/; job thread.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "history/store.h"
#include "jobs/params.h"
#include "model/json_parse.h"

namespace pairflow::jobs {

class HistoryWarmup {
 public:
  void configure(const Params& params, const std::string& default_topic = "ticks") {
    const std::string warmup = params.string("warmup", "");
    if (warmup.empty()) return;
    if (warmup != "all") {
      window_ = params.duration("warmup", 0);
      if (window_ <= 0) params.fail("warmup", "\"all\" or a positive duration such as 2d");
    }
    topic_ = params.topic("warmup_topic", default_topic);
    try {
      path_ = history::resolve_history_path(params.string("history", ""));
    } catch (const UserError& e) {
      throw stream::JobError(fmt::format("{}: warmup: {}", params.job(), e.what()));
    }
    enabled_ = true;
  }
  bool enabled() const { return enabled_; }
  bool pending() const { return enabled_ && !done_; }
  Timestamp window() const { return window_; }  // 0 = all
  const std::string& topic() const { return topic_; }
  // Replays the recorded ticks before the live tick in `payload` through `feed(const Tick&)`;
  // returns how many. Throws JobError when the history cannot be read.
  template <typename Feed>
  std::uint64_t run(const std::string& payload, SymbolTable& symbols, Feed&& feed) {
    done_ = true;
    SymbolTable scratch;  // the live tick's symbol must not be interned before the history's
    auto live = TickParser().parse(payload, scratch);
    if (!live) return 0;  // the job reports the bad tick itself
    history::Query q;
    q.topic = topic_;
    q.to = live->ts;
    if (window_ > 0) q.from = live->ts - window_;
    std::uint64_t n = 0;
    try {
      history::TickReader reader(path_, q);
      Tick tick;
      while (reader.next(tick, symbols)) {
        feed(tick);
        ++n;
      }
    } catch (const UserError& e) {
      throw stream::JobError(fmt::format("warmup: {}", e.what()));
    }
    return n;
  }
  const std::string& path() const { return path_; }

 private:
  bool enabled_ = false, done_ = false;
  Timestamp window_ = 0;  // 0 = all
  std::string path_, topic_;
};

}  // namespace pairflow::jobs
