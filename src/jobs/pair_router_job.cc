// The built-in `pair_router` job (see jobs/builtin_jobs.h).
#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "jobs/factories.h"
#include "jobs/params.h"
#include "model/json.h"
#include "model/topics.h"
#include "stream/job.h"

namespace pairflow::jobs {
namespace {

// pair_router  pairs.control + bars.* -> pairs.bars keyed by pair id: forwards each control record
// and, for every active pair, the bars of its two legs, so that the pair actors can run as a
// consumer group partitioned by pair id (each instance owns some pairs and sees all of their
// legs' bars). params {control = "pairs.control"}. State: the active pairs (checkpointed).
class PairRouterJob : public stream::Job {
 public:
  void setup(stream::JobContext& ctx) override {
    Params params("pair_router", ctx.params_json());
    control_topic_ = params.topic("control", std::string(topics::kPairsControl));
  }
  void process(const stream::Message& m, stream::JobContext& ctx) override {
    simdjson::dom::object obj;
    if (parser_.parse(m.payload).get_object().get(obj))
      throw stream::JobError("payload is not a JSON object");
    if (m.topic == control_topic_) {
      std::uint64_t pair;
      std::string_view action, y, x;
      if (obj["pair"].get_uint64().get(pair) || obj["action"].get_string().get(action) ||
          obj["y"].get_string().get(y) || obj["x"].get_string().get(x)) {
        throw stream::JobError("control record needs pair, action, y and x");
      }
      if (action == "activate") {
        pairs_[pair] = {std::string(y), std::string(x)};
      } else if (action == "deactivate") {
        pairs_.erase(pair);
      } else {
        throw stream::JobError(fmt::format("unknown control action '{}'", action));
      }
      ctx.emit("", std::to_string(pair), m.payload);
      return;
    }
    std::string_view symbol;
    std::int64_t ts;
    double close;
    if (obj["symbol"].get_string().get(symbol) || obj["ts"].get_int64().get(ts) ||
        obj["close"].get_double().get(close)) {
      throw stream::JobError("bar needs symbol, ts (ns) and close");
    }
    for (const auto& [pair, legs] : pairs_) {
      if (legs.first != symbol && legs.second != symbol) continue;
      ctx.emit("", std::to_string(pair),
               fmt::format(R"({{"pair":{},"ts":{},"symbol":{},"close":{}}})", pair, ts,
                           json_string(symbol), json_number(close)));
    }
  }
  std::string snapshot_state() override {
    std::string out = "[";
    for (const auto& [pair, legs] : pairs_) {
      out += fmt::format("{}[{},{},{}]", out.size() > 1 ? "," : "", pair, json_string(legs.first),
                         json_string(legs.second));
    }
    return out + "]";
  }
  void restore_state(std::string_view json) override {
    simdjson::dom::array list;
    if (parser_.parse(json.data(), json.size()).get_array().get(list)) {
      throw stream::JobError("pair_router: checkpoint state is not a list");
    }
    pairs_.clear();
    for (auto item : list) {
      simdjson::dom::array entry;
      std::uint64_t pair;
      std::string_view y, x;
      if (item.get_array().get(entry) || entry.at(0).get_uint64().get(pair) ||
          entry.at(1).get_string().get(y) || entry.at(2).get_string().get(x)) {
        throw stream::JobError("pair_router: checkpoint state is corrupt");
      }
      pairs_[pair] = {std::string(y), std::string(x)};
    }
  }

 private:
  std::string control_topic_;
  simdjson::dom::parser parser_;
  std::map<std::uint64_t, std::pair<std::string, std::string>> pairs_;  // by pair id: ordered
};

}  // namespace

std::unique_ptr<stream::Job> make_pair_router_job() { return std::make_unique<PairRouterJob>(); }

}  // namespace pairflow::jobs
