// Test job (C ABI): echoes each JSON object with "seq" (messages seen, checkpointed) and "in_key"
// added; sleeps delay_us per message when the parameter is set, so tests can kill it half-way.
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "stream/pairflow_job.h"

namespace {
long seq = 0;
long delay_us = 0;
bool recovered = false;
std::string snapshot_text, error;
}  // namespace

extern "C" {

int pairflow_setup(pairflow_ctx*, const pairflow_api*, const char* params) {
  std::string p(params);
  auto at = p.find("\"delay_us\":");
  if (at != std::string::npos) delay_us = std::strtol(p.c_str() + at + 11, nullptr, 10);
  return 0;
}

int pairflow_process(pairflow_ctx* ctx, const pairflow_api* api, const char* payload, size_t size,
                     const char* key, size_t key_size) {
  std::string body(payload, size);
  if (size < 2 || body.front() != '{' || body.back() != '}') {
    error = "not a JSON object";
    return 1;
  }
  if (delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
  ++seq;
  std::string out = body.substr(0, body.size() - 1) + (body.size() > 2 ? "," : "") +
                    "\"seq\":" + std::to_string(seq) + ",\"in_key\":\"" +
                    std::string(key, key_size) +
                    "\",\"recovered\":" + (recovered ? "true" : "false") + "}";
  api->emit(ctx, "", "", out.c_str(), out.size());
  return 0;
}

int pairflow_recover(pairflow_ctx*, const pairflow_api*) {
  recovered = true;
  return 0;
}

const char* pairflow_snapshot(void) {
  snapshot_text = "{\"seq\":" + std::to_string(seq) + "}";
  return snapshot_text.c_str();
}

int pairflow_restore(const char* json) {
  std::string s(json);
  auto at = s.find("\"seq\":");
  seq = at == std::string::npos ? 0 : std::strtol(s.c_str() + at + 6, nullptr, 10);
  return 0;
}

const char* pairflow_last_error(void) { return error.c_str(); }

}  // extern "C"
