#include "embed/r/r_job.h"

#include <filesystem>
#include <string_view>
#include <vector>

#include "embed/r/r_host.h"
#include "embed/r/r_json.h"

namespace pairflow::embed {
namespace {

using r_internal::RHost;
using stream::JobError;

// PROTECT / UNPROTECT as a scope, so that C++ exceptions keep R's protect stack balanced.
class Protect {
 public:
  explicit Protect(SEXP x) : x_(x) { PROTECT(x); }
  ~Protect() { UNPROTECT(1); }
  Protect(const Protect&) = delete;
  Protect& operator=(const Protect&) = delete;
  SEXP get() const { return x_; }

 private:
  SEXP x_;
};

// Symbols are interned by R: looking them up once per process is enough.
struct Symbols {
  SEXP msg = Rf_install("msg");
  SEXP ctx = Rf_install("ctx");
  SEXP process = Rf_install("process");
  SEXP setup = Rf_install("setup");
  SEXP recover = Rf_install("recover");
  SEXP finish = Rf_install("finish");
  SEXP state = Rf_install("pairflow_state");
};

const Symbols& symbols() {
  static const Symbols s;
  return s;
}

class RJob final : public stream::Job {
 public:
  RJob(std::string path, SEXP env) : path_(std::move(path)) {
    const Symbols& sym = symbols();
    // One preserved list keeps everything this job needs alive: [env, call env, calls...].
    objects_ = Rf_allocVector(VECSXP, 6);
    R_PreserveObject(objects_);
    SET_VECTOR_ELT(objects_, 0, env);
    // Calls are evaluated in a small child of the job environment that binds `msg` / `ctx`, so
    // that R's error messages read "in process(msg)" instead of printing the whole message.
    call_env_ = R_NewEnv(env, FALSE, 0);
    SET_VECTOR_ELT(objects_, 1, call_env_);
    process_call_ = Rf_lang2(sym.process, sym.msg);
    SET_VECTOR_ELT(objects_, 2, process_call_);
    setup_call_ = Rf_lang2(sym.setup, sym.ctx);
    SET_VECTOR_ELT(objects_, 3, setup_call_);
    recover_call_ = Rf_lang2(sym.recover, sym.ctx);
    SET_VECTOR_ELT(objects_, 4, recover_call_);
    finish_call_ = Rf_lang2(sym.finish, sym.ctx);
    SET_VECTOR_ELT(objects_, 5, finish_call_);
    env_ = env;
  }

  ~RJob() override {
    // May run on any thread, or after R ended at exit: release_later() copes with both.
    if (RHost* host = RHost::existing()) host->release_later(objects_);
  }

  void setup(stream::JobContext& ctx) override {
    call_with_context(setup_call_, symbols().setup, ctx);
  }

  void recover(stream::JobContext& ctx) override {
    call_with_context(recover_call_, symbols().recover, ctx);
  }

  // finish(ctx) may publish what is still pending by returning it, as process() does.
  void finish(stream::JobContext& ctx) override {
    call_with_context(finish_call_, symbols().finish, ctx, "finish()");
  }

  void process(const stream::Message& message, stream::JobContext& ctx) override {
    RHost& host = RHost::get();
    RHost::CallScope scope(host, ctx);
    {
      Protect msg(host.json().read(message.payload));
      Rf_defineVar(symbols().msg, msg.get(), call_env_);
    }
    std::string error;
    SEXP result = host.eval(process_call_, call_env_, path_, error);
    if (result == nullptr) throw JobError(error);
    Protect keep(result);
    emit_result(result, ctx, "process()");
  }

  std::string snapshot_state() override {
    RHost::get();
    SEXP state = state_env();
    Protect names(R_lsInternal3(state, TRUE, TRUE));  // sorted: stable snapshots
    std::string out = "{";
    for (R_xlen_t i = 0; i < XLENGTH(names.get()); ++i) {
      SEXP name = STRING_ELT(names.get(), i);
      SEXP value = Rf_findVarInFrame(state, Rf_installChar(name));
      if (TYPEOF(value) == PROMSXP) {  // delayedAssign(): force it
        std::string error;
        value = RHost::get().eval(value, state, path_, error);
        if (value == nullptr) throw JobError(error);
      }
      Protect keep(value);
      if (i) out.push_back(',');
      try {
        r_internal::append_json_string(name, out);
        out.push_back(':');
        r_internal::append_json(value, out);
      } catch (const JobError& e) {
        throw JobError(path_ + ": pairflow_state$" + CHAR(name) + ": " + e.what());
      }
    }
    out.push_back('}');
    return out;
  }

  void restore_state(std::string_view json) override {
    RHost& host = RHost::get();
    SEXP state = state_env();
    Protect saved(host.json().read(json));
    SEXP names = Rf_getAttrib(saved.get(), R_NamesSymbol);
    if (TYPEOF(saved.get()) != VECSXP || names == R_NilValue) {
      throw JobError(path_ + ": saved state is not a JSON object");
    }
    // Assigned over what setup() put there: keys added by a newer job version keep their defaults.
    for (R_xlen_t i = 0; i < XLENGTH(saved.get()); ++i) {
      SEXP name = STRING_ELT(names, i);
      if (LENGTH(name) == 0) continue;  // R has no variable named ""
      Rf_defineVar(Rf_installChar(name), VECTOR_ELT(saved.get(), i), state);
    }
  }

 private:
  SEXP state_env() {
    SEXP state = Rf_findVarInFrame(env_, symbols().state);
    if (TYPEOF(state) != ENVSXP) {
      throw JobError(path_ + ": pairflow_state must stay an environment (assign into it with " +
                     "pairflow_state$name <- value)");
    }
    return state;
  }

  // Calls an optional function(ctx); emits its value when `emit_as` names it (finish()).
  void call_with_context(SEXP call, SEXP function_symbol, stream::JobContext& ctx,
                         const char* emit_as = nullptr) {
    RHost& host = RHost::get();
    if (Rf_findVarInFrame(env_, function_symbol) == R_UnboundValue) return;  // optional
    RHost::CallScope scope(host, ctx);
    {
      Protect ctx_list(make_context_list(host, ctx));
      Rf_defineVar(symbols().ctx, ctx_list.get(), call_env_);
    }
    std::string error;
    SEXP result = host.eval(call, call_env_, path_, error);
    if (result == nullptr) throw JobError(error);
    if (emit_as != nullptr) {
      Protect keep(result);
      emit_result(result, ctx, emit_as);
    }
  }

  // ctx for setup() / recover(): list(name =, params = list(...), output_topic =).
  SEXP make_context_list(RHost& host, stream::JobContext& ctx) {
    SEXP list = PROTECT(Rf_allocVector(VECSXP, 3));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 3));
    SET_STRING_ELT(names, 0, Rf_mkChar("name"));
    SET_STRING_ELT(names, 1, Rf_mkChar("params"));
    SET_STRING_ELT(names, 2, Rf_mkChar("output_topic"));
    Rf_setAttrib(list, R_NamesSymbol, names);
    SET_VECTOR_ELT(list, 0, Rf_ScalarString(Rf_mkCharCE(ctx.job_name().c_str(), CE_UTF8)));
    SET_VECTOR_ELT(list, 2, Rf_ScalarString(Rf_mkCharCE(ctx.output_topic().c_str(), CE_UTF8)));
    const std::string& params = ctx.params_json();
    SEXP params_value = R_NilValue;
    try {
      params_value = params.empty() ? R_NilValue : host.json().read(params);
    } catch (const JobError& e) {
      UNPROTECT(2);
      throw JobError(path_ + ": job parameters: " + e.what());
    }
    if (params_value == R_NilValue) {  // no parameters: an empty named list, not NULL
      params_value = Rf_allocVector(VECSXP, 0);
      PROTECT(params_value);
      Rf_setAttrib(params_value, R_NamesSymbol, Rf_allocVector(STRSXP, 0));
      UNPROTECT(1);
    }
    SET_VECTOR_ELT(list, 1, params_value);
    UNPROTECT(2);
    return list;
  }

  // The value of process() or finish(): NULL, one message (named list), several (unnamed list of
  // named lists), or a data frame (one message per row). All are serialized before any is emitted,
  // so that a bad element fails the message without emitting half of its outputs.
  void emit_result(SEXP result, stream::JobContext& ctx, const char* function) {
    if (result == R_NilValue) return;
    out_.clear();
    ends_.clear();
    try {
      if (TYPEOF(result) != VECSXP) {
        throw JobError(std::string(function) +
                       " must return a named list (one message), a list of named lists or NULL, "
                       "not " +
                       r_internal::describe_r_value(result));
      }
      if (Rf_inherits(result, "data.frame")) {
        const R_xlen_t rows = r_internal::data_frame_rows(result);
        for (R_xlen_t i = 0; i < rows; ++i) {
          r_internal::append_json_row(result, i, out_);
          ends_.push_back(out_.size());
        }
      } else if (Rf_getAttrib(result, R_NamesSymbol) != R_NilValue) {
        r_internal::append_json(result, out_);
        ends_.push_back(out_.size());
      } else {
        for (R_xlen_t i = 0; i < XLENGTH(result); ++i) {
          SEXP item = VECTOR_ELT(result, i);
          if (item == R_NilValue) continue;
          if (TYPEOF(item) != VECSXP || Rf_getAttrib(item, R_NamesSymbol) == R_NilValue) {
            throw JobError(std::string(function) + " returned a list whose element " +
                           std::to_string(i + 1) + " is " + r_internal::describe_r_value(item) +
                           ", not a named list");
          }
          r_internal::append_json(item, out_);
          ends_.push_back(out_.size());
        }
      }
    } catch (const JobError& e) {
      throw JobError(path_ + ": " + e.what());
    }
    std::size_t begin = 0;
    const std::string_view all(out_);
    for (std::size_t end : ends_) {
      ctx.emit("", "", all.substr(begin, end - begin));
      begin = end;
    }
  }

  std::string path_;
  SEXP objects_ = nullptr;
  SEXP env_ = nullptr;
  SEXP call_env_ = nullptr;
  SEXP process_call_ = nullptr;
  SEXP setup_call_ = nullptr;
  SEXP recover_call_ = nullptr;
  SEXP finish_call_ = nullptr;
  std::string out_;
  std::vector<std::size_t> ends_;
};

}  // namespace

std::unique_ptr<stream::Job> load_r_job(const std::string& path) {
  RHost& host = RHost::get();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw JobError(path + ": cannot read the job file (no such file)");
  }
  SEXP path_value = PROTECT(Rf_ScalarString(Rf_mkCharCE(path.c_str(), CE_UTF8)));
  SEXP call = PROTECT(Rf_lang2(host.load_function(), path_value));
  std::string error;
  SEXP env = host.eval(call, host.helpers_env(), path, error);
  if (env == nullptr) {
    UNPROTECT(2);
    throw JobError(error);
  }
  PROTECT(env);
  if (TYPEOF(env) == STRSXP) {
    error = CHAR(STRING_ELT(env, 0));
    UNPROTECT(3);
    throw JobError(error);
  }
  std::unique_ptr<stream::Job> job;
  try {
    job = std::make_unique<RJob>(path, env);
  } catch (...) {
    UNPROTECT(3);
    throw;
  }
  UNPROTECT(3);
  return job;
}

}  // namespace pairflow::embed
