// load_job(): picks the job host by file extension; C++ jobs are shared libraries with the C ABI
// of jobs/pairflow_job.h, loaded with dlopen.
#include "app/load_job.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "stream/job.h"
#include "stream/pairflow_job.h"

#ifdef PAIRFLOW_HAVE_PYTHON
#include "embed/python/python_job.h"
#endif
#ifdef PAIRFLOW_HAVE_R
#include "embed/r/r_job.h"
#endif

// Outputs of a call are held here until the call returns: they are checked (valid JSON objects)
// before any reaches a topic, so a job that returns garbage loses the message to the DLQ with the
// reason instead of publishing what no consumer can read.
struct pairflow_ctx {
  pairflow::stream::JobContext* context;
  struct Output {
    std::string topic, key, json;
  };
  std::vector<Output> pending;
};

namespace pairflow::app {

using stream::Job;
using stream::JobContext;
using stream::JobError;
using stream::LogLevel;
using stream::Message;

namespace {

using SetupFn = int (*)(pairflow_ctx*, const pairflow_api*, const char*);
using ProcessFn = int (*)(pairflow_ctx*, const pairflow_api*, const char*, size_t, const char*,
                          size_t);
using RecoverFn = int (*)(pairflow_ctx*, const pairflow_api*);
using SnapshotFn = const char* (*)();
using RestoreFn = int (*)(const char*);
using LastErrorFn = const char* (*)();

void api_emit(pairflow_ctx* ctx, const char* topic, const char* key, const char* json,
              size_t size) {
  ctx->pending.push_back(
      {topic ? topic : "", key ? key : "", json ? std::string(json, size) : std::string()});
}
void api_log(pairflow_ctx* ctx, int level, const char* text) {
  ctx->context->log(static_cast<LogLevel>(std::clamp(level, 0, 3)), text ? text : "");
}
void api_metric(pairflow_ctx* ctx, const char* name, double value) {
  ctx->context->metric(name ? name : "", value);
}
constexpr pairflow_api kApi{api_emit, api_log, api_metric};

class SharedLibraryJob : public Job {
 public:
  explicit SharedLibraryJob(const std::string& path) : path_(path) {
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) throw JobError(fmt::format("{}: cannot load: {}", path, dlerror()));
    process_ = reinterpret_cast<ProcessFn>(dlsym(handle_, "pairflow_process"));
    if (!process_) {
      dlclose(handle_);
      throw JobError(
          fmt::format("{}: does not export pairflow_process (see jobs/pairflow_job.h)", path));
    }
    setup_ = reinterpret_cast<SetupFn>(dlsym(handle_, "pairflow_setup"));
    recover_ = reinterpret_cast<RecoverFn>(dlsym(handle_, "pairflow_recover"));
    snapshot_ = reinterpret_cast<SnapshotFn>(dlsym(handle_, "pairflow_snapshot"));
    restore_ = reinterpret_cast<RestoreFn>(dlsym(handle_, "pairflow_restore"));
    last_error_ = reinterpret_cast<LastErrorFn>(dlsym(handle_, "pairflow_last_error"));
  }
  ~SharedLibraryJob() override {
    if (handle_) dlclose(handle_);
  }

  void setup(JobContext& ctx) override {
    begin(ctx);
    if (setup_ && setup_(&ctx_, &kApi, ctx.params_json().c_str()) != 0) {
      throw JobError(fmt::format("{}: pairflow_setup failed: {}", path_, error()));
    }
    publish(fmt::format("{}: pairflow_setup: ", path_));
  }
  void process(const Message& m, JobContext& ctx) override {
    begin(ctx);
    if (process_(&ctx_, &kApi, m.payload.data(), m.payload.size(), m.key.data(), m.key.size()) !=
        0) {
      throw JobError(error());
    }
    publish("");
  }
  void recover(JobContext& ctx) override {
    begin(ctx);
    if (recover_ && recover_(&ctx_, &kApi) != 0) {
      throw JobError(fmt::format("{}: pairflow_recover failed: {}", path_, error()));
    }
    publish(fmt::format("{}: pairflow_recover: ", path_));
  }
  std::string snapshot_state() override {
    const char* s = snapshot_ ? snapshot_() : nullptr;
    return s ? s : "{}";
  }
  void restore_state(std::string_view json) override {
    if (restore_ && restore_(std::string(json).c_str()) != 0) {
      throw JobError(fmt::format("{}: pairflow_restore failed: {}", path_, error()));
    }
  }

 private:
  void begin(JobContext& ctx) {
    ctx_.context = &ctx;
    ctx_.pending.clear();
  }
  // Checks every output of the call, then emits them all, or none (JobError naming the first bad).
  void publish(const std::string& prefix) {
    for (std::size_t i = 0; i < ctx_.pending.size(); ++i) {
      const auto& out = ctx_.pending[i];
      simdjson::dom::element root;
      if (auto err = parser_.parse(out.json).get(root); err || !root.is_object()) {
        std::string text = out.json.size() > 80 ? out.json.substr(0, 80) + "..." : out.json;
        throw JobError(
            fmt::format("{}output {} is not a JSON object ({}): '{}'", prefix, i + 1,
                        err ? simdjson::error_message(err) : "a JSON value of another type", text));
      }
    }
    for (const auto& out : ctx_.pending) ctx_.context->emit(out.topic, out.key, out.json);
    ctx_.pending.clear();
  }
  std::string error() const {
    const char* e = last_error_ ? last_error_() : nullptr;
    return e && *e ? e : "job returned an error";
  }
  std::string path_;
  void* handle_ = nullptr;
  pairflow_ctx ctx_{};
  simdjson::dom::parser parser_;
  SetupFn setup_ = nullptr;
  ProcessFn process_ = nullptr;
  RecoverFn recover_ = nullptr;
  SnapshotFn snapshot_ = nullptr;
  RestoreFn restore_ = nullptr;
  LastErrorFn last_error_ = nullptr;
};

}  // namespace

std::unique_ptr<Job> load_job(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw JobError(fmt::format("{}: no such job file", path));
  }
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".so") return std::make_unique<SharedLibraryJob>(path);
#ifdef PAIRFLOW_HAVE_PYTHON
  if (ext == ".py") return embed::load_python_job(path);
#endif
#ifdef PAIRFLOW_HAVE_R
  if (ext == ".R" || ext == ".r") return embed::load_r_job(path);
#endif
  throw JobError(fmt::format("{}: unknown job type '{}' (expected .py, .R or .so)", path, ext));
}

}  // namespace pairflow::app
