// RInside.h first: it pulls in Rcpp, which must see R's headers before anyone else includes them.
#include <RInside.h>
// clang-format off
#define R_INTERFACE_PTRS
#include <Rinterface.h>
// clang-format on
#include <R_ext/Parse.h>
#include <pthread.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "embed/r/r_host.h"
#include "history/store.h"

namespace pairflow::embed::r_internal {
namespace {

using stream::JobError;

// R code run once at start-up, in the helpers environment (parent of every job environment).
// `.pf_*_ptr` are external pointers to the C callbacks below, defined before this runs.
constexpr const char* kHelpersCode = R"R(
pairflow_emit <- function(topic, msg, key = NULL) invisible(.Call(.pf_emit_ptr, topic, msg, key))
pairflow_log <- function(text, level = "info") invisible(.Call(.pf_log_ptr, text, level))
pairflow_metric <- function(name, value = 1) invisible(.Call(.pf_metric_ptr, name, value))
pairflow_history <- function(topic, symbol = NULL, start = NULL, end = NULL, db = NULL)
  .Call(.pf_history_ptr, topic, symbol, start, end, db)

.pf_err_file <- NULL
.pf_err_line <- NULL

# The innermost call on the stack that has a source reference: list(file, line), or NULL.
.pf_where <- function(calls) {
  for (call in rev(calls)) {
    ref <- attr(call, "srcref")
    if (!is.null(ref)) {
      src <- attr(ref, "srcfile")
      if (is.environment(src) && is.character(src$filename) && nzchar(src$filename))
        return(list(src$filename, ref[[1L]]))
    }
  }
  NULL
}

# options(error = ...) runs this for uncaught errors before R unwinds the stack, so the stack still
# shows where the error happened. Costs nothing while no error occurs.
.pf_on_error <- function() {
  where <- .pf_where(sys.calls())
  if (!is.null(where)) {
    .pf_err_file <<- where[[1L]]
    .pf_err_line <<- where[[2L]]
  }
}

.pf_describe <- function(e) {
  call <- conditionCall(e)
  msg <- conditionMessage(e)
  if (is.null(call)) msg else paste0("in ", deparse(call, nlines = 1L)[[1L]], ": ", msg)
}

# Evaluates a job file into a fresh environment: that environment, or an error message.
.pf_load <- function(path) {
  exprs <- tryCatch(parse(file = path, keep.source = TRUE, encoding = "UTF-8"),
                    error = function(e) e)
  if (inherits(exprs, "error")) {
    msg <- strsplit(conditionMessage(exprs), "\n", fixed = TRUE)[[1L]][[1L]]
    m <- regmatches(msg, regexec("^.*:([0-9]+):([0-9]+): (.*)$", msg))[[1L]]
    if (length(m) == 4L)
      return(sprintf("%s:%s: syntax error: %s (column %s)", path, m[[2L]], m[[4L]], m[[3L]]))
    return(sprintf("%s: %s", path, msg))
  }
  env <- new.env(parent = .pf_helpers)
  assign("pairflow_state", new.env(parent = emptyenv()), envir = env)
  refs <- attr(exprs, "srcref")
  for (i in seq_along(exprs)) {
    where <- list(path, refs[[i]][[1L]])
    expr <- exprs[[i]]
    err <- tryCatch(withCallingHandlers({ eval(expr, env); NULL }, error = function(e) {
      inner <- .pf_where(sys.calls())
      if (!is.null(inner)) where <<- inner
    }), error = function(e) e)
    if (!is.null(err)) {
      # stop() at the top level of the file reports our eval() as its call: not the user's.
      if (identical(conditionCall(err), quote(eval(expr, env)))) err$call <- NULL
      return(sprintf("%s:%d: %s", where[[1L]], where[[2L]], .pf_describe(err)))
    }
  }
  for (name in c("setup", "process", "recover", "finish")) {
    if (exists(name, envir = env, inherits = FALSE) && !is.function(get(name, envir = env)))
      return(sprintf("%s: '%s' must be a function", path, name))
  }
  if (!exists("process", envir = env, inherits = FALSE))
    return(sprintf("%s: no process function (define process <- function(msg) ...)", path))
  env
}
)R";

std::atomic<RHost*> g_host{nullptr};
std::unique_ptr<RInside> g_rinside;
std::atomic<bool> g_alive{false};
std::atomic<bool> g_has_pending{false};
std::mutex g_start_mutex;

// --- callbacks from R ------------------------------------------------------------------------
// R errors are longjmps: they must not cross live C++ objects. Each callback does its C++ work in
// run_guarded(), which returns with every C++ object destroyed, and only then raises the error.

std::string& error_text() {
  static std::string text;
  return text;
}

template <typename F>
bool run_guarded(F&& body) {
  try {
    body();
    return true;
  } catch (const std::exception& e) {
    error_text() = e.what();
  } catch (...) {
    error_text() = "unknown C++ exception";
  }
  return false;
}

stream::JobContext& require_context(const char* helper) {
  stream::JobContext* ctx = g_host.load()->current_context();
  if (!ctx) {
    throw JobError(std::string(helper) + "() works only inside setup(), process() or recover()");
  }
  return *ctx;
}

std::string_view string_arg(SEXP x, const char* what) {
  if (TYPEOF(x) != STRSXP || XLENGTH(x) != 1 || STRING_ELT(x, 0) == NA_STRING) {
    throw JobError(std::string(what) + " must be a character string, not " + describe_r_value(x));
  }
  // Strings from R code are UTF-8 or ASCII (job files are parsed as UTF-8).
  return std::string_view(CHAR(STRING_ELT(x, 0)), LENGTH(STRING_ELT(x, 0)));
}

extern "C" SEXP pf_emit(SEXP topic, SEXP msg, SEXP key) {
  const bool ok = run_guarded([&] {
    stream::JobContext& ctx = require_context("pairflow_emit");
    const std::string_view topic_text = string_arg(topic, "topic");
    const std::string_view key_text =
        key == R_NilValue ? std::string_view() : string_arg(key, "key");
    if (TYPEOF(msg) != VECSXP || Rf_getAttrib(msg, R_NamesSymbol) == R_NilValue) {
      throw JobError("msg must be a named list, not " + describe_r_value(msg));
    }
    std::string& out = g_host.load()->callback_buffer();
    out.clear();
    append_json(msg, out);
    ctx.emit(topic_text, key_text, out);
  });
  if (!ok) Rf_error("%s", error_text().c_str());
  return R_NilValue;
}

extern "C" SEXP pf_log(SEXP text, SEXP level) {
  const bool ok = run_guarded([&] {
    if (TYPEOF(text) != STRSXP) {
      throw JobError("text must be a character string, not " + describe_r_value(text));
    }
    const std::string_view name = string_arg(level, "level");
    stream::LogLevel lvl;
    if (name == "info") {
      lvl = stream::LogLevel::kInfo;
    } else if (name == "debug") {
      lvl = stream::LogLevel::kDebug;
    } else if (name == "warning" || name == "warn") {
      lvl = stream::LogLevel::kWarning;
    } else if (name == "error") {
      lvl = stream::LogLevel::kError;
    } else {
      throw JobError("level must be \"debug\", \"info\", \"warning\" or \"error\"");
    }
    std::string line;  // a character vector is one line, its elements separated by spaces
    for (R_xlen_t i = 0; i < XLENGTH(text); ++i) {
      if (i) line.push_back(' ');
      SEXP s = STRING_ELT(text, i);
      line.append(s == NA_STRING ? "NA" : CHAR(s));
    }
    stream::JobContext* ctx = g_host.load()->current_context();
    if (ctx) {
      ctx->log(lvl, line);
    } else {  // while a job file loads there is no context yet
      std::fprintf(stderr, "pairflow R: %s\n", line.c_str());
    }
  });
  if (!ok) Rf_error("%s", error_text().c_str());
  return R_NilValue;
}

extern "C" SEXP pf_metric(SEXP name, SEXP value) {
  const bool ok = run_guarded([&] {
    stream::JobContext& ctx = require_context("pairflow_metric");
    const std::string_view metric = string_arg(name, "name");
    double v;
    if (TYPEOF(value) == REALSXP && XLENGTH(value) == 1) {
      v = REAL(value)[0];
    } else if ((TYPEOF(value) == INTSXP || TYPEOF(value) == LGLSXP) && XLENGTH(value) == 1 &&
               INTEGER(value)[0] != NA_INTEGER) {
      v = INTEGER(value)[0];
    } else {
      throw JobError("value must be one number, not " + describe_r_value(value));
    }
    ctx.metric(metric, v);
  });
  if (!ok) Rf_error("%s", error_text().c_str());
  return R_NilValue;
}

// A time argument of pairflow_history(): a POSIXct or a number (seconds since the epoch), or an ISO
// string.
Timestamp time_arg(SEXP x, const char* what) {
  if ((TYPEOF(x) == REALSXP || TYPEOF(x) == INTSXP) && XLENGTH(x) == 1) {
    const double seconds = TYPEOF(x) == REALSXP ? REAL(x)[0] : INTEGER(x)[0];
    if (!std::isfinite(seconds) || (TYPEOF(x) == INTSXP && INTEGER(x)[0] == NA_INTEGER))
      throw JobError(std::string(what) + " must be a time, not NA");
    return static_cast<Timestamp>(std::llround(seconds * 1e9));
  }
  auto t = parse_timestamp(string_arg(x, what));
  if (!t) throw JobError(std::string(what) + ": " + t.status().message());
  return *t;
}

extern "C" SEXP pf_history(SEXP topic, SEXP symbol, SEXP start, SEXP end, SEXP db) {
  SEXP result = R_NilValue;
  int protected_count = 0;
  const bool ok = run_guarded([&] {
    history::Query q;
    q.topic = std::string(string_arg(topic, "topic"));
    if (symbol != R_NilValue) {
      if (TYPEOF(symbol) == REALSXP || TYPEOF(symbol) == INTSXP) {  // a pair id
        q.key = std::to_string(static_cast<long long>(
            TYPEOF(symbol) == REALSXP ? REAL(symbol)[0] : INTEGER(symbol)[0]));
      } else {
        q.key = std::string(string_arg(symbol, "symbol"));
      }
    }
    if (start != R_NilValue) q.from = time_arg(start, "start");
    if (end != R_NilValue) q.to = time_arg(end, "end");
    if (q.from >= q.to) throw JobError("start must be before end");
    const std::string explicit_db = db == R_NilValue ? "" : std::string(string_arg(db, "db"));
    history::Frame frame;
    try {
      frame = history::read_frame(history::resolve_history_path(explicit_db), q);
    } catch (const UserError& e) {
      throw JobError(e.what());
    }
    const R_xlen_t n = static_cast<R_xlen_t>(frame.rows);
    const R_xlen_t k = static_cast<R_xlen_t>(frame.columns.size());
    result = PROTECT(Rf_allocVector(VECSXP, k));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, k));
    protected_count = 2;
    for (R_xlen_t c = 0; c < k; ++c) {
      const history::FrameColumn& col = frame.columns[c];
      SET_STRING_ELT(names, c, Rf_mkCharCE(col.name.c_str(), CE_UTF8));
      SEXP v;
      if (c == 0) {  // POSIXct in UTC (seconds; R has no nanosecond time)
        v = PROTECT(Rf_allocVector(REALSXP, n));
        for (R_xlen_t r = 0; r < n; ++r) REAL(v)[r] = static_cast<double>(col.integer[r]) / 1e9;
        SEXP cls = PROTECT(Rf_allocVector(STRSXP, 2));
        SET_STRING_ELT(cls, 0, Rf_mkChar("POSIXct"));
        SET_STRING_ELT(cls, 1, Rf_mkChar("POSIXt"));
        Rf_setAttrib(v, R_ClassSymbol, cls);
        Rf_setAttrib(v, Rf_install("tzone"), Rf_mkString("UTC"));
        UNPROTECT(1);
      } else if (col.kind == history::ColumnKind::kReal ||
                 (col.kind == history::ColumnKind::kInt && !col.beyond_int64)) {
        v = PROTECT(Rf_allocVector(REALSXP, n));
        for (R_xlen_t r = 0; r < n; ++r) REAL(v)
        [r] = col.null[r]                              ? NA_REAL
              : col.kind == history::ColumnKind::kReal ? col.real[r]
                                                       : static_cast<double>(col.integer[r]);
      } else if (col.kind == history::ColumnKind::kBool) {
        v = PROTECT(Rf_allocVector(LGLSXP, n));
        for (R_xlen_t r = 0; r < n; ++r)
          LOGICAL(v)[r] = col.null[r] ? NA_LOGICAL : (col.integer[r] != 0);
      } else {  // text, JSON, integers beyond int64 (exact digits)
        v = PROTECT(Rf_allocVector(STRSXP, n));
        for (R_xlen_t r = 0; r < n; ++r)
          SET_STRING_ELT(v, r, col.null[r] ? NA_STRING : Rf_mkCharCE(col.text[r].c_str(), CE_UTF8));
      }
      SET_VECTOR_ELT(result, c, v);
      UNPROTECT(1);
    }
    Rf_setAttrib(result, R_NamesSymbol, names);
    SEXP row_names = PROTECT(Rf_allocVector(INTSXP, 2));
    INTEGER(row_names)[0] = NA_INTEGER;
    INTEGER(row_names)[1] = -static_cast<int>(n);
    Rf_setAttrib(result, R_RowNamesSymbol, row_names);
    Rf_setAttrib(result, R_ClassSymbol, Rf_mkString("data.frame"));
    UNPROTECT(1);
  });
  if (protected_count) UNPROTECT(protected_count);
  if (!ok) Rf_error("%s", error_text().c_str());
  return result;
}

extern "C" void pf_write_console(const char* text, int length, int otype) {
  if (RHost* host = g_host.load()) {
    host->console(text, length, otype != 0);
  } else {  // R's start-up messages, before the host exists
    std::fwrite(text, 1, static_cast<std::size_t>(length), stderr);
  }
}

// Through void(*)(): the one function pointer type GCC accepts as a cast's go-between.
template <typename F>
DL_FUNC as_dl_func(F* fn) {
  return reinterpret_cast<DL_FUNC>(reinterpret_cast<void (*)()>(fn));
}

SEXP parse_code(const char* code) {
  SEXP text = PROTECT(Rf_mkString(code));
  ParseStatus status;
  SEXP exprs = R_ParseVector(text, -1, &status, R_NilValue);
  UNPROTECT(1);
  if (status != PARSE_OK) throw JobError("R host: internal R code does not parse");
  return exprs;
}

// R checks its C stack against the thread that started it; RInside switches the check off, which
// turns runaway recursion into a crash. Point it at this (the owner) thread's stack instead.
void set_stack_limits() {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* base = nullptr;
  std::size_t size = 0;
  if (pthread_attr_getstack(&attr, &base, &size) == 0 && size > 0) {
    R_CStackStart = reinterpret_cast<uintptr_t>(base) + size;
    R_CStackLimit = size;
  }
  pthread_attr_destroy(&attr);
}

void shutdown_r() {
  // Runs at exit: ends R (removing its session temp directory). Jobs destroyed later see !alive.
  g_alive = false;
  g_rinside.reset();
}

}  // namespace

RHost::RHost() : owner_(std::this_thread::get_id()) {
  // RInside needs R_HOME; default to the R this was built against.
  setenv("R_HOME", PAIRFLOW_R_HOME, 0);
  const char* argv[] = {"pairflow"};
  g_rinside = std::make_unique<RInside>(1, argv, true, false, false);
  g_alive = true;
  std::atexit(shutdown_r);
  set_stack_limits();

  // Console output of jobs (print, cat, message, warnings) goes to their log, not to stdout,
  // which may be carrying the pipeline's data.
  R_Outputfile = nullptr;
  R_Consolefile = nullptr;
  ptr_R_WriteConsole = nullptr;
  ptr_R_WriteConsoleEx = pf_write_console;

  helpers_env_ = R_NewEnv(R_GlobalEnv, TRUE, 29);
  R_PreserveObject(helpers_env_);
  auto define_ptr = [&](const char* name, DL_FUNC fn) {
    SEXP ptr = PROTECT(R_MakeExternalPtrFn(fn, Rf_install("native symbol"), R_NilValue));
    Rf_defineVar(Rf_install(name), ptr, helpers_env_);
    UNPROTECT(1);
  };
  define_ptr(".pf_emit_ptr", as_dl_func(pf_emit));
  define_ptr(".pf_log_ptr", as_dl_func(pf_log));
  define_ptr(".pf_metric_ptr", as_dl_func(pf_metric));
  define_ptr(".pf_history_ptr", as_dl_func(pf_history));
  Rf_defineVar(Rf_install(".pf_helpers"), helpers_env_, helpers_env_);

  SEXP exprs = PROTECT(parse_code(kHelpersCode));
  for (R_xlen_t i = 0; i < XLENGTH(exprs); ++i) {
    int failed = 0;
    R_tryEvalSilent(VECTOR_ELT(exprs, i), helpers_env_, &failed);
    if (failed) {
      UNPROTECT(1);
      throw JobError(std::string("R host: start-up code failed: ") + R_curErrorBuf());
    }
  }
  UNPROTECT(1);
  load_fn_ = Rf_findVarInFrame(helpers_env_, Rf_install(".pf_load"));
  sym_err_file_ = Rf_install(".pf_err_file");
  sym_err_line_ = Rf_install(".pf_err_line");

  // Uncaught errors record their source line; warnings print (to the job's log) as they happen.
  const std::string options =
      "options(warn = 1, error = as.call(list(get('.pf_on_error', envir = .pf_helpers))))";
  SEXP opt = PROTECT(parse_code(options.c_str()));
  int failed = 0;
  R_tryEvalSilent(VECTOR_ELT(opt, 0), helpers_env_, &failed);
  UNPROTECT(1);
  if (failed) throw JobError(std::string("R host: setting options failed: ") + R_curErrorBuf());
}

RHost& RHost::get() {
  if (g_host == nullptr) {
    std::lock_guard<std::mutex> lock(g_start_mutex);
    // R cannot be started twice: a failed start is final, and a started one lives until exit.
    static std::string start_error;
    if (!start_error.empty()) throw JobError(start_error);
    if (g_host == nullptr) {
      try {
        g_host = new RHost();  // never deleted: R cannot be restarted
      } catch (const std::exception& e) {
        start_error = e.what();
        throw;
      }
    }
  }
  RHost* host = g_host.load();
  host->check_thread();
  if (g_has_pending.load(std::memory_order_acquire)) host->release_pending();
  return *host;
}

bool RHost::alive() { return g_alive.load(); }

RHost* RHost::existing() { return g_alive.load() ? g_host.load() : nullptr; }

void RHost::check_thread() const {
  if (std::this_thread::get_id() != owner_) {
    throw JobError(
        "R jobs must be called from the thread that started R (the first to load an R job); R is "
        "single-threaded");
  }
}

SEXP RHost::eval(SEXP call, SEXP env, const std::string& file, std::string& error) {
  int failed = 0;
  SEXP value = R_tryEvalSilent(call, env, &failed);
  if (!failed) return value;

  // R's error text: "Error in CALL : MESSAGE\n" or "Error: MESSAGE\n", long ones over two lines,
  // maybe followed by "Calls: ..." (a summary of the stack we do not need).
  std::string text = R_curErrorBuf();
  if (auto calls = text.find("\nCalls:"); calls != std::string::npos) text.resize(calls);
  std::string where_call;
  if (text.rfind("Error in ", 0) == 0) {
    const auto colon = text.find(" : ");
    if (colon != std::string::npos) {
      where_call = text.substr(9, colon - 9);
      text.erase(0, colon + 3);
    }
  } else if (text.rfind("Error: ", 0) == 0) {
    text.erase(0, 7);
  } else if (text.rfind("Error : ", 0) == 0) {
    text.erase(0, 8);
  }
  std::string message;  // one line: newlines and the indentation after them become one space
  for (char c : text) {
    if (c == '\n' || c == '\r' ||
        ((c == ' ' || c == '\t') && !message.empty() && message.back() == ' ')) {
      if (!message.empty() && message.back() != ' ') message.push_back(' ');
      continue;
    }
    message.push_back(c);
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  while (!message.empty() && message.front() == ' ') message.erase(0, 1);

  std::string location = file;
  SEXP err_file = Rf_findVarInFrame(helpers_env_, sym_err_file_);
  SEXP err_line = Rf_findVarInFrame(helpers_env_, sym_err_line_);
  if (TYPEOF(err_file) == STRSXP && XLENGTH(err_file) == 1 && Rf_isNumeric(err_line) &&
      XLENGTH(err_line) == 1) {
    location = std::string(CHAR(STRING_ELT(err_file, 0))) + ":" +
               std::to_string(static_cast<long>(Rf_asInteger(err_line)));
  }
  Rf_defineVar(sym_err_file_, R_NilValue, helpers_env_);
  Rf_defineVar(sym_err_line_, R_NilValue, helpers_env_);

  error = location + ": ";
  if (!where_call.empty()) error += "in " + where_call + ": ";
  error += message;
  return nullptr;
}

RHost::CallScope::CallScope(RHost& host, stream::JobContext& ctx)
    : host_(host), previous_(host.current_) {
  host_.current_ = &ctx;
}

RHost::CallScope::~CallScope() {
  host_.flush_console();
  host_.current_ = previous_;
}

void RHost::console(const char* text, int length, bool is_stderr) {
  if (current_ == nullptr) {  // not inside a job call: R's own output, to stderr
    std::fwrite(text, 1, static_cast<std::size_t>(length), stderr);
    return;
  }
  std::string& buffer = console_[is_stderr ? 1 : 0];
  buffer.append(text, static_cast<std::size_t>(length));
  std::size_t start = 0;
  for (std::size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string_view line(buffer.data() + start, nl - start);
    // stderr carries warnings and message(); only the former deserve the warning level.
    const bool warning = is_stderr && line.rfind("Warning", 0) == 0;
    try {
      current_->log(warning ? stream::LogLevel::kWarning : stream::LogLevel::kInfo, line);
    } catch (...) {
      // Nothing can cross back into R from here; a failing log loses the line.
    }
  }
  buffer.erase(0, start);
}

void RHost::flush_console() {
  for (int i = 0; i < 2; ++i) {
    if (!console_[i].empty()) console("\n", 1, i == 1);
  }
}

void RHost::release_later(SEXP x) {
  if (!alive()) return;
  if (std::this_thread::get_id() == owner_) {
    R_ReleaseObject(x);
    return;
  }
  std::lock_guard<std::mutex> lock(pending_mutex_);
  pending_release_.push_back(x);
  g_has_pending.store(true, std::memory_order_release);
}

void RHost::release_pending() {
  std::vector<SEXP> pending;
  {
    std::lock_guard<std::mutex> lock(pending_mutex_);
    pending.swap(pending_release_);
    g_has_pending.store(false, std::memory_order_release);
  }
  for (SEXP x : pending) R_ReleaseObject(x);
}

}  // namespace pairflow::embed::r_internal
