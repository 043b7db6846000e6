// Params: the one reader of a built-in job's parameters (the JSON object a pipeline file's
// `params = {...}` becomes). Each getter names the job and the key in its JobError, so a wrong
// type is reported as "join: param 'tolerance' must be a duration such as 5m". Unknown keys are
// refused before a job starts (check_builtin_params in builtin_jobs.h). Used in setup(), on the
// job's thread.
#pragma once

#include <fmt/format.h>
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "model/topics.h"
#include "stream/job.h"

namespace pairflow::jobs {

class Params {
 public:
  Params(std::string job, const std::string& json) : job_(std::move(job)) {
    if (parser_.parse(json).get(root_) || !root_.is_object()) {
      throw stream::JobError(fmt::format("{}: params are not a JSON object: {}", job_, json));
    }
  }
  bool has(const char* key) const {
    simdjson::dom::element e;
    return !root_[key].get(e);
  }
  std::string string(const char* key, const std::string& fallback) const {
    simdjson::dom::element e;
    if (root_[key].get(e)) return fallback;
    std::string_view v;
    if (e.get_string().get(v)) fail(key, "a string");
    return std::string(v);
  }
  // A topic name (Kafka's rules: letters, digits, '.', '_', '-'); `fallback` when absent.
  std::string topic(const char* key, const std::string& fallback) const {
    std::string name = string(key, fallback);
    if (Status s = topics::validate_name(name); !s) fail(key, "a topic name: " + s.message());
    return name;
  }
  std::vector<std::string> strings(const char* key) const {
    std::vector<std::string> out;
    simdjson::dom::element e;
    if (root_[key].get(e)) return out;
    simdjson::dom::array a;
    if (e.get_array().get(a)) fail(key, "a list of strings");
    for (auto item : a) {
      std::string_view v;
      if (item.get_string().get(v)) fail(key, "a list of strings");
      out.emplace_back(v);
    }
    return out;
  }
  std::int64_t integer(const char* key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const {
    simdjson::dom::element e;
    if (root_[key].get(e)) return fallback;
    std::int64_t v;
    if (e.get_int64().get(v) || v < min || v > max)
      fail(key, fmt::format("an integer in [{}, {}]", min, max));
    return v;
  }
  double number(const char* key, double fallback, double min, double max) const {
    simdjson::dom::element e;
    if (root_[key].get(e)) return fallback;
    double v;
    if (e.get_double().get(v) || !(v >= min && v <= max))
      fail(key, fmt::format("a number in [{}, {}]", min, max));
    return v;
  }
  bool boolean(const char* key, bool fallback) const {
    simdjson::dom::element e;
    if (root_[key].get(e)) return fallback;
    bool v;
    if (e.get_bool().get(v)) fail(key, "true or false");
    return v;
  }
  // A duration ("5m", "500ms", "0"); `fallback` when absent.
  Timestamp duration(const char* key, Timestamp fallback) const {
    const std::string text = string(key, "");
    if (text.empty()) return fallback;
    if (text == "0") return 0;
    auto d = parse_duration(text);
    if (!d || *d < 0) fail(key, "a duration such as 0, 500ms or 5m");
    return *d;
  }
  // The raw element under `key` (nested objects such as the join's columns).
  std::optional<simdjson::dom::element> element(const char* key) const {
    simdjson::dom::element e;
    if (root_[key].get(e)) return std::nullopt;
    return e;
  }
  [[noreturn]] void fail(std::string_view key, std::string_view expected) const {
    throw stream::JobError(fmt::format("{}: param '{}' must be {}", job_, key, expected));
  }
  const std::string& job() const { return job_; }

 private:
  std::string job_;
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
};

}  // namespace pairflow::jobs
