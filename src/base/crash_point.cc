#include "base/crash_point.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace pairflow {
namespace {

struct Target {
  std::string name;
  long hit = 0;  // 0: no crash point armed
};

const Target& target() {
  static const Target t = [] {
    Target t;
    const char* spec = std::getenv("PAIRFLOW_CRASH_AT");
    if (!spec || !*spec) return t;
    const char* colon = std::strrchr(spec, ':');
    t.name = colon ? std::string(spec, colon) : std::string(spec);
    t.hit = colon ? std::strtol(colon + 1, nullptr, 10) : 1;
    return t;
  }();
  return t;
}

std::atomic<long> g_hits{0};

}  // namespace

void crash_point(const char* name) {
  const Target& t = target();
  if (t.hit <= 0 || t.name != name) return;
  if (g_hits.fetch_add(1) + 1 == t.hit) {
    std::fprintf(stderr, "pairflow: PAIRFLOW_CRASH_AT=%s:%ld: killing the process\n", name, t.hit);
    std::raise(SIGKILL);
  }
}

}  // namespace pairflow
