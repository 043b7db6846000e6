// The process's one embedded R, shared by all R jobs (internal; include only from src/embed/r).
//
// Lifecycle: RHost::get() starts R (RInside) on first use and keeps it until process exit, when
// R's temporary directory is removed. It installs the helper functions jobs see (pairflow_emit,
// pairflow_log, pairflow_metric) in an environment that is the parent of every job environment,
// routes R's console output to the job's log, and records where uncaught R errors happened.
//
// Threading: the first caller of get() owns R; get() and check_thread() throw stream::JobError on
// any other thread. release_later() is the one call allowed from any thread.
#pragma once

#ifndef R_NO_REMAP
#define R_NO_REMAP
#endif
#include <Rinternals.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "embed/r/r_json.h"
#include "stream/job.h"

namespace pairflow::embed::r_internal {

class RHost {
 public:
  // The running R, started on first use. Throws stream::JobError off the owner thread.
  static RHost& get();
  // False once R has been shut down at exit (objects must then not be released).
  static bool alive();
  // The host if R was started and is still alive, else nullptr; no thread check (for destructors).
  static RHost* existing();

  void check_thread() const;

  // Parent of every job environment: holds the helper functions.
  SEXP helpers_env() const { return helpers_env_; }
  // R function(path) -> the job's environment, or a character error message.
  SEXP load_function() const { return load_fn_; }
  RJsonReader& json() { return json_; }

  // Evaluates `call` in `env` catching R errors. On error returns nullptr and sets `error` to
  // "FILE:LINE: in CALL: MESSAGE" (FILE:LINE of the innermost source line known, else `file`).
  SEXP eval(SEXP call, SEXP env, const std::string& file, std::string& error);

  // Makes `ctx` the context the helper functions act on while the scope lives; flushes the
  // console output collected for its log when it ends.
  class CallScope {
   public:
    CallScope(RHost& host, stream::JobContext& ctx);
    ~CallScope();
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;

   private:
    RHost& host_;
    stream::JobContext* previous_;
  };

  // Releases an R_PreserveObject'ed value: now on the owner thread, else at its next call.
  void release_later(SEXP x);

  // Used by the C callbacks R calls.
  stream::JobContext* current_context() const { return current_; }
  void console(const char* text, int length, bool is_stderr);
  std::string& callback_buffer() { return callback_buffer_; }

 private:
  RHost();
  void flush_console();
  void release_pending();

  std::thread::id owner_;
  SEXP helpers_env_ = nullptr;
  SEXP load_fn_ = nullptr;
  SEXP sym_err_file_ = nullptr;
  SEXP sym_err_line_ = nullptr;
  RJsonReader json_;
  stream::JobContext* current_ = nullptr;
  std::string console_[2];  // partial lines of stdout / stderr while a job call runs
  std::string callback_buffer_;
  std::mutex pending_mutex_;
  std::vector<SEXP> pending_release_;
};

}  // namespace pairflow::embed::r_internal
