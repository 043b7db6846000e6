// A C++ job for `pairflow job run count_by_key.so`: counts messages per key and emits
// {"key": ..., "count": n, "payload": <the input>} for each; malformed input goes to the DLQ.
// Build: g++ -std=c++20 -O2 -shared -fPIC -I src examples/jobs/count_by_key.cc -o count_by_key.so
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "stream/pairflow_job.h"

namespace {
std::map<std::string, long> counts;
std::string last_error, snapshot;

// A key as a JSON string: quotes, backslashes and control characters escaped.
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}
}  // namespace

extern "C" {

int pairflow_process(pairflow_ctx* ctx, const pairflow_api* api, const char* payload, size_t size,
                     const char* key, size_t key_size) {
  // A quick shape check; the runtime validates every output as JSON, so a payload that only looks
  // like an object still ends in the DLQ with the parser's reason, never on the output topic.
  std::string body(payload, size);
  if (body.empty() || body.front() != '{' || body.back() != '}') {
    last_error = "payload is not a JSON object";
    return 1;
  }
  std::string k(key, key_size);
  long n = ++counts[k];
  std::string out = "{\"key\":" + json_string(k) + ",\"count\":" + std::to_string(n) +
                    ",\"payload\":" + body + "}";
  api->emit(ctx, "", "", out.c_str(), out.size());
  api->metric(ctx, "messages", 1.0);
  return 0;
}

const char* pairflow_snapshot(void) {
  snapshot = "{";
  for (const auto& [k, n] : counts) {
    snapshot += (snapshot.size() > 1 ? "," : "") + json_string(k) + ":" + std::to_string(n);
  }
  snapshot += "}";
  return snapshot.c_str();
}

int pairflow_restore(const char* json) {
  // The snapshot above: {"key":n,...}, keys escaped by json_string().
  counts.clear();
  const std::string s(json);
  std::size_t i = 1;
  while (i < s.size() && s[i] == '"') {
    std::string k;
    for (++i; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] != '\\') {
        k += s[i];
      } else if (s[i + 1] == 'u') {
        k += static_cast<char>(std::strtol(s.substr(i + 2, 4).c_str(), nullptr, 16));
        i += 5;
      } else {
        k += s[++i];
      }
    }
    char* end = nullptr;
    counts[k] = std::strtol(s.c_str() + i + 2, &end, 10);  // past the '"' and the ':'
    i = static_cast<std::size_t>(end - s.c_str());
    if (i >= s.size() || s[i] != ',') break;
    ++i;
  }
  return 0;
}

int pairflow_recover(pairflow_ctx* ctx, const pairflow_api* api) {
  api->log(ctx, 1, "recovered from checkpoint");
  return 0;
}

const char* pairflow_last_error(void) { return last_error.c_str(); }

}  // extern "C"
