// A C++ job for `pairflow job run count_by_key.so`: counts messages per key and emits
// {"key": ..., "count": n, "payload": <the input>} for each; malformed input goes to the DLQ.
// Build: g++ -std=c++20 -O2 -shared -fPIC -I src examples/jobs/count_by_key.cc -o count_by_key.so
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "jobs/pairflow_job.h"

namespace {
std::map<std::string, long> counts;
std::string last_error, snapshot;
}  // namespace

extern "C" {

int pairflow_process(pairflow_ctx* ctx, const pairflow_api* api, const char* payload, size_t size,
                     const char* key, size_t key_size) {
  std::string body(payload, size);
  if (body.empty() || body.front() != '{' || body.back() != '}') {
    last_error = "payload is not a JSON object";
    return 1;
  }
  long n = ++counts[std::string(key, key_size)];
  std::string out = "{\"key\":\"" + std::string(key, key_size) +
                    "\",\"count\":" + std::to_string(n) + ",\"payload\":" + body + "}";
  api->emit(ctx, "", "", out.c_str(), out.size());
  api->metric(ctx, "messages", 1.0);
  return 0;
}

const char* pairflow_snapshot(void) {
  snapshot = "{";
  for (const auto& [k, n] : counts) {
    snapshot += (snapshot.size() > 1 ? ",\"" : "\"") + k + "\":" + std::to_string(n);
  }
  snapshot += "}";
  return snapshot.c_str();
}

int pairflow_restore(const char* json) {
  // The snapshot above: {"k":n,...} with plain keys.
  counts.clear();
  std::string s(json);
  std::size_t i = 1;
  while (i < s.size() && s[i] == '"') {
    std::size_t end = s.find('"', i + 1);
    std::string k = s.substr(i + 1, end - i - 1);
    long n = std::strtol(s.c_str() + end + 2, nullptr, 10);
    counts[k] = n;
    i = s.find_first_of(",}", end + 2) + 1;
    if (i < s.size() && s[i - 1] == ',') continue;
    break;
  }
  return 0;
}

int pairflow_recover(pairflow_ctx* ctx, const pairflow_api* api) {
  api->log(ctx, 1, "recovered from checkpoint");
  return 0;
}

const char* pairflow_last_error(void) { return last_error.c_str(); }

}  // extern "C"
