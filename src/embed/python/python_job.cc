#include "embed/python/python_job.h"

#include <pybind11/embed.h>
#include <pybind11/numpy.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <limits>
#include <mutex>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

#include "embed/python/py_binary.h"
#include "embed/python/py_codec.h"
#include "history/store.h"
#include "model/binary_codec.h"
#include "model/topics.h"

namespace py = pybind11;

namespace pairflow::embed {
namespace {

using detail::BatchRows;
using detail::ColumnBuilder;
using detail::JsonDecoder;
using detail::Ref;
using stream::JobContext;
using stream::JobError;
using stream::Message;

class PythonJob;

// --- interpreter and threads ----------------------------------------------------------------

// Python side of loading: the importlib dance, signature checks and traceback walking are short
// and clear in Python, and none of it is on the per-message path.
constexpr const char* kHelperSource = R"PY(
import importlib.machinery, importlib.util, inspect, os, sys, types, typing

class LoadError(Exception):
    pass

def describe(exc, path):
    """('Type: message', line in `path` where it was raised, or None)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(exc, SyntaxError):
        text = exc.msg or ""
        if exc.filename == path:
            line = exc.lineno
        elif exc.filename:
            text = f"{text} ({exc.filename}:{exc.lineno})"
    else:
        text = str(exc)
    text = " ".join(text.split())
    name = type(exc).__name__
    return (f"{name}: {text}" if text else name), line

_NOT_ROWS = (int, float, complex, str, bytes, bytearray, bool, set, frozenset)

def _not_rows(ann, globs):
    if isinstance(ann, str):
        try:
            ann = eval(ann, globs)
        except Exception:
            return False
    if ann in _NOT_ROWS:
        return True
    origin = typing.get_origin(ann)
    if origin is typing.Union or origin is getattr(types, "UnionType", None):
        return all(_not_rows(a, globs) for a in typing.get_args(ann))
    return origin in (set, frozenset)

_ARG = {"process": "msg", "process_batch": "cols", "setup": "ctx", "recover": "ctx"}

def _check(display, mod, name):
    fn = mod.__dict__.get(name)
    if fn is None:
        if name == "process":
            raise LoadError(f"{display}: no process(msg) function defined")
        return None
    code = getattr(fn, "__code__", None)
    where = f"{display}:{code.co_firstlineno}" if code is not None else display
    if not callable(fn):
        raise LoadError(f"{display}: {name} is a {type(fn).__name__}, not a function")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn
    try:
        sig.bind(None)
    except TypeError:
        raise LoadError(f"{where}: {name}() must take exactly one argument ({_ARG[name]}); "
                        f"it is {name}{sig}") from None
    if name in ("process", "process_batch"):
        ann = sig.return_annotation
        if ann is not inspect.Signature.empty and _not_rows(ann, getattr(fn, "__globals__", {})):
            shown = ann if isinstance(ann, str) else getattr(ann, "__name__", repr(ann))
            raise LoadError(f"{where}: {name}() is annotated to return {shown}; "
                            "expected dict, list of dicts or None")
    return fn

def load(path, display, name):
    if not os.path.isfile(path):
        raise LoadError(f"{display}: no such file")
    # Helper modules next to the job file import like in a script.
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        loader.exec_module(mod)
        fns = tuple(_check(display, mod, n) for n in ("process", "process_batch", "setup", "recover"))
    except LoadError:
        sys.modules.pop(name, None)
        raise
    except BaseException as e:
        sys.modules.pop(name, None)
        text, line = describe(e, path)
        raise LoadError(f"{display}:{line}: {text}" if line else f"{display}: {text}") from None
    return (mod,) + fns

def unload(name):
    sys.modules.pop(name, None)

def make_ctx(name, params, output_topic):
    return types.SimpleNamespace(name=name, params=params, output_topic=output_topic)
)PY";

struct Helper {
  PyObject* load = nullptr;  // all strong, never released: the interpreter outlives every job
  PyObject* unload = nullptr;
  PyObject* describe = nullptr;
  PyObject* make_ctx = nullptr;
  PyObject* load_error = nullptr;
};
Helper g_helper;
std::thread::id g_init_thread;

void start_interpreter() {
  const bool ours = !Py_IsInitialized();
  if (ours) {
    // No signal handlers: the host process owns SIGINT. No program dir on sys.path either.
    py::initialize_interpreter(false, 0, nullptr, false);
    g_init_thread = std::this_thread::get_id();
  }
  {
    py::gil_scoped_acquire gil;
    std::string error;
    if (!detail::init_numpy(error)) throw JobError(error);
    auto helper = py::reinterpret_steal<py::module_>(PyModule_New("_pairflow_host"));
    if (!helper) throw py::error_already_set();
    py::exec(kHelperSource, helper.attr("__dict__"));
    g_helper.load = py::object(helper.attr("load")).release().ptr();
    g_helper.unload = py::object(helper.attr("unload")).release().ptr();
    g_helper.describe = py::object(helper.attr("describe")).release().ptr();
    g_helper.make_ctx = py::object(helper.attr("make_ctx")).release().ptr();
    g_helper.load_error = py::object(helper.attr("LoadError")).release().ptr();
    helper.release();
  }
  // The init thread holds the GIL after initialization; hand it back so any thread can run jobs.
  if (ours) PyEval_SaveThread();
}

void ensure_interpreter() {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    try {
      start_interpreter();
    } catch (const std::exception& e) {
      failure = std::string("cannot start the Python interpreter: ") + e.what();
    }
  });
  if (!failure.empty()) throw JobError(failure);
}

// Keeps this thread's Python thread state between calls; deletes it when the thread exits.
struct ThreadStateKeeper {
  bool kept = false;
  ~ThreadStateKeeper() {
    if (!kept || std::this_thread::get_id() == g_init_thread || !Py_IsInitialized() ||
        _Py_IsFinalizing()) {
      return;
    }
    py::gil_scoped_acquire gil;
    gil.dec_ref();  // the count drops to zero when `gil` ends: the thread state is deleted
  }
};
thread_local ThreadStateKeeper t_keeper;

// Holds the GIL on this thread for its scope.
class GilHold {
 public:
  GilHold() {
    if (!t_keeper.kept) {
      gil_.inc_ref();  // one extra count: the thread state survives the release
      t_keeper.kept = true;
    }
  }

 private:
  py::gil_scoped_acquire gil_;
};

// --- the call in progress --------------------------------------------------------------------

// What pairflow.emit/state/log/metric act on: set while a job method runs on this thread.
struct CurrentCall {
  PythonJob* job = nullptr;
  JobContext* ctx = nullptr;         // null while the module itself is executing (load)
  const std::string* key = nullptr;  // key of the message being processed, when known
};
thread_local CurrentCall* t_call = nullptr;

class CallScope {
 public:
  CallScope(PythonJob* job, JobContext* ctx) : saved_(t_call) {
    call_.job = job;
    call_.ctx = ctx;
    t_call = &call_;
  }
  ~CallScope() { t_call = saved_; }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;
  void set_key(const std::string* key) { call_.key = key; }

 private:
  CurrentCall call_;
  CurrentCall* saved_;
};

CurrentCall& require_call(const char* what) {
  if (!t_call || !t_call->ctx) {
    throw py::value_error(std::string("pairflow.") + what +
                          "() can only be called while the job runs setup, process, "
                          "process_batch or recover");
  }
  return *t_call;
}

// --- the job ---------------------------------------------------------------------------------

std::string module_name_for(const std::filesystem::path& path) {
  static std::atomic<int> counter{0};
  std::string stem = path.stem().string();
  for (char& c : stem) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return "pairflow_job_" + std::to_string(++counter) + "_" + stem;
}

constexpr const char* kExpectedRows = "expected dict, list of dicts or None";

class PythonJob final : public stream::Job {
 public:
  explicit PythonJob(std::string display) : display_(std::move(display)) {
    std::filesystem::path p(display_);
    abs_path_ = std::filesystem::absolute(p).lexically_normal().string();
    module_name_ = module_name_for(p);
  }

  ~PythonJob() override {
    if (!py_) return;
    GilHold gil;
    PyObject* r = PyObject_CallOneArg(g_helper.unload, py_->module_name.get());
    if (r) {
      Py_DECREF(r);
    } else {
      PyErr_Clear();
    }
    py_.reset();  // Python references go while the GIL is held
  }

  void load() {
    GilHold gil;
    py_ = std::make_unique<Py>();
    py_->state.reset(PyDict_New());
    py_->module_name.reset(PyUnicode_FromString(module_name_.c_str()));
    CallScope scope(this, nullptr);  // `from pairflow import state` at import binds our dict
    Ref result(PyObject_CallFunction(g_helper.load, "ssO", abs_path_.c_str(), display_.c_str(),
                                     py_->module_name.get()));
    if (!result) {
      std::string text = load_error_text();
      py_.reset();
      throw JobError(text);
    }
    py_->module = Ref::borrow(PyTuple_GET_ITEM(result.get(), 0));
    auto fn = [&](int i) {
      PyObject* f = PyTuple_GET_ITEM(result.get(), i);
      return f == Py_None ? Ref() : Ref::borrow(f);
    };
    py_->process = fn(1);
    py_->batch = fn(2);
    py_->setup = fn(3);
    py_->recover = fn(4);
  }

  void setup(JobContext& ctx) override { call_hook(py_->setup.get(), "setup", ctx); }
  void recover(JobContext& ctx) override { call_hook(py_->recover.get(), "recover", ctx); }

  // Binary payloads become columns directly on the process_batch() path, and are turned into
  // dicts for process().
  bool reads_binary() const override { return true; }
  // A job file with process_batch() gets whole batches from the runtime (JobRunner), on every
  // transport; without one, the runtime calls process() per message.
  bool has_batch_path() const override { return py_ && py_->batch; }

  void process(const Message& message, JobContext& ctx) override {
    GilHold gil;
    CallScope scope(this, &ctx);
    scope.set_key(&message.key);
    process_one(message, ctx, "");
  }

  void process_batch(std::span<const Message> batch, JobContext& ctx,
                     std::vector<Failure>& failed) override {
    GilHold gil;
    CallScope scope(this, &ctx);
    if (!py_->batch || !columnar_batch(batch, ctx, failed, scope)) {
      per_message(batch, ctx, failed, scope);
    }
  }

  std::string snapshot_state() override {
    GilHold gil;
    std::string out, error;
    if (!detail::write_json(py_->state.get(), out, error)) {
      throw JobError(display_ + ": pairflow.state cannot be saved as JSON: " + error);
    }
    return out;
  }

  void restore_state(std::string_view json) override {
    GilHold gil;
    std::string error;
    Ref parsed(py_->decoder.decode_object(json, error));
    if (!parsed) throw JobError(display_ + ": cannot restore pairflow.state: " + error);
    // Same dict object: the job may hold it (`from pairflow import state`).
    PyDict_Clear(py_->state.get());
    if (PyDict_Update(py_->state.get(), parsed.get()) < 0) {
      throw JobError(display_ + ": cannot restore pairflow.state: " + detail::take_python_error());
    }
  }

  // For the pairflow module (GIL held).
  PyObject* state() const { return py_->state.get(); }
  std::string& emit_buffer() { return py_->emit_buffer; }

 private:
  // Everything that references Python objects; destroyed with the GIL held.
  struct Py {
    Ref module_name, module, state, process, batch, setup, recover;
    JsonDecoder decoder;
    ColumnBuilder columns;
    detail::BinaryColumns binary;
    BatchRows rows;
    std::string emit_buffer;
    std::vector<std::string> outs;
    detail::PackedRows packed;
    std::vector<std::size_t> index;
    simdjson::dom::parser stream_parser;
    std::string stream_buffer;
    std::vector<std::size_t> offsets;
  };

  // The pending exception of a user call: ("Type: message", line in the job file or 0).
  std::pair<std::string, long> pending_error() {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value) PyException_SetTraceback(value, tb);
    Ref t(type), v(value), b(tb);
    if (!v) return {"unknown Python error", 0};
    Ref described(PyObject_CallFunction(g_helper.describe, "Os", v.get(), abs_path_.c_str()));
    if (!described) return {detail::take_python_error(), 0};
    const char* text = PyUnicode_AsUTF8(PyTuple_GET_ITEM(described.get(), 0));
    PyObject* line = PyTuple_GET_ITEM(described.get(), 1);
    return {text ? text : "?", line == Py_None ? 0 : PyLong_AsLong(line)};
  }

  // "Type: message (FILE:LINE)": the one-line reason of a failed message.
  std::string message_error() {
    auto [text, line] = pending_error();
    return text + " (" + display_ + (line ? ":" + std::to_string(line) : "") + ")";
  }

  // "FILE:LINE: Type: message": a failed load, setup or recover.
  std::string hook_error() {
    auto [text, line] = pending_error();
    return display_ + (line ? ":" + std::to_string(line) : "") + ": " + text;
  }

  std::string load_error_text() {
    if (PyErr_ExceptionMatches(g_helper.load_error)) {
      std::string text = detail::take_python_error();  // "LoadError: ..."
      auto colon = text.find(": ");
      return colon == std::string::npos ? text : text.substr(colon + 2);
    }
    return hook_error();
  }

  void call_hook(PyObject* fn, const char* name, JobContext& ctx) {
    if (!fn) return;
    GilHold gil;
    CallScope scope(this, &ctx);
    std::string error;
    Ref params;
    const std::string& params_json = ctx.params_json();
    if (params_json.empty()) {
      params.reset(PyDict_New());
    } else {
      params.reset(py_->decoder.decode_object(params_json, error));
      if (!params) throw JobError(display_ + ": job parameters: " + error);
    }
    auto str = [](const std::string& s) {
      return Ref(PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size())));
    };
    Ref job_name = str(ctx.job_name()), topic = str(ctx.output_topic());
    Ref pyctx(job_name && topic ? PyObject_CallFunctionObjArgs(g_helper.make_ctx, job_name.get(),
                                                               params.get(), topic.get(), nullptr)
                                : nullptr);
    if (!pyctx) throw JobError(display_ + ": " + detail::take_python_error());
    Ref result(PyObject_CallOneArg(fn, pyctx.get()));
    if (!result) throw JobError(hook_error());
    // setup() and recover() may return rows too (a warm-up summary, a replay).
    emit_result(result.get(), name, ctx, "");
  }

  // One message through process(). GIL held, scope set. Throws JobError.
  void process_one(const Message& message, JobContext& ctx, std::string_view out_key) {
    std::string error;
    Ref msg;
    if (is_binary_message(message.payload)) {
      auto json = binary_to_json(message.payload);
      if (!json) throw JobError(std::string(json.status().message()));
      msg.reset(py_->decoder.decode_object(*json, error));
    } else {
      msg.reset(py_->decoder.decode_object(message.payload, error));
    }
    if (!msg) throw JobError(error);
    Ref result(PyObject_CallOneArg(py_->process.get(), msg.get()));
    if (!result) throw JobError(message_error());
    emit_result(result.get(), "process", ctx, out_key);
  }

  // Emits what a user function returned: a dict, a list (or tuple) of dicts, or None. Every row
  // is serialized before the first is emitted, so a bad return emits nothing.
  void emit_result(PyObject* result, const char* fn, JobContext& ctx, std::string_view key) {
    if (result == Py_None) return;
    std::string error;
    auto& outs = py_->outs;
    if (PyDict_Check(result)) {
      if (outs.empty()) outs.emplace_back();
      outs[0].clear();
      if (!detail::write_json(result, outs[0], error)) {
        throw JobError(std::string(fn) +
                       "() returned a dict that is not JSON-serializable: " + error);
      }
      ctx.emit("", key, outs[0]);
      return;
    }
    if (!PyList_Check(result) && !PyTuple_Check(result)) {
      throw JobError(std::string(fn) + "() returned " + Py_TYPE(result)->tp_name + "; " +
                     kExpectedRows);
    }
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(result);
    PyObject** items = PySequence_Fast_ITEMS(result);
    if (outs.size() < static_cast<std::size_t>(n)) outs.resize(n);
    for (Py_ssize_t i = 0; i < n; ++i) {
      if (!PyDict_Check(items[i])) {
        throw JobError(std::string(fn) + "() returned a " + Py_TYPE(result)->tp_name +
                       " containing " + Py_TYPE(items[i])->tp_name + "; " + kExpectedRows);
      }
      outs[i].clear();
      if (!detail::write_json(items[i], outs[i], error)) {
        throw JobError(std::string(fn) +
                       "() returned a dict that is not JSON-serializable: " + error);
      }
    }
    for (Py_ssize_t i = 0; i < n; ++i) ctx.emit("", key, outs[i]);
  }

  // Message i of `batch` through process(); a failure is reported in `failed`, not thrown.
  void process_reported(std::span<const Message> batch, std::size_t i, JobContext& ctx,
                        std::vector<Failure>& failed, CallScope& scope) {
    scope.set_key(&batch[i].key);
    try {
      process_one(batch[i], ctx, batch[i].key);
    } catch (const JobError& e) {
      failed.push_back({i, e.what()});
    }
    scope.set_key(nullptr);
  }

  void per_message(std::span<const Message> batch, JobContext& ctx, std::vector<Failure>& failed,
                   CallScope& scope) {
    for (std::size_t i = 0; i < batch.size(); ++i) process_reported(batch, i, ctx, failed, scope);
  }

  // The process_batch() path. False when the batch must go through process() per message
  // instead (the columnar call failed); undecodable payloads are reported either way.
  bool columnar_batch(std::span<const Message> batch, JobContext& ctx, std::vector<Failure>& failed,
                      CallScope& scope, bool try_binary = true) {
    auto& p = *py_;
    p.index.clear();
    if (try_binary && std::any_of(batch.begin(), batch.end(),
                                  [](const Message& m) { return is_binary_message(m.payload); })) {
      Ref cols;
      switch (p.binary.decode(batch, p.columns, p.decoder, cols, p.index, failed)) {
        case detail::BinaryColumns::Outcome::kBuilt:
          return call_batch(batch, ctx, failed, scope, std::move(cols));
        case detail::BinaryColumns::Outcome::kError:
          PyErr_Clear();
          return false;  // out of memory: the simple path copes message by message
        case detail::BinaryColumns::Outcome::kFallback:
          return json_batch(batch, ctx, failed, scope);
      }
    }
    if (stream_rows(batch)) return call_batch(batch, ctx, failed, scope);
    std::vector<Failure> bad;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      simdjson::dom::element root;
      if (auto err = p.decoder.parse(batch[i].payload, root)) {
        if (err == simdjson::NUMBER_ERROR) {
          p.columns.clear();  // an integer beyond 64 bits: process() takes it whole, columns don't
          return false;
        }
        bad.push_back(
            {i, std::string("payload is not valid JSON: ") + simdjson::error_message(err)});
        continue;
      }
      if (root.type() != simdjson::dom::element_type::OBJECT) {
        bad.push_back({i, "payload is not a JSON object"});
        continue;
      }
      if (!p.columns.add_row(root.get_object().value_unsafe(), p.decoder)) {
        PyErr_Clear();
        p.columns.clear();
        return false;  // out of memory midway: the simple path copes message by message
      }
      p.index.push_back(i);
    }
    failed.insert(failed.end(), bad.begin(), bad.end());
    return call_batch(batch, ctx, failed, scope);
  }

  // Fast path of the columns: the payloads laid end to end and parsed as one simdjson stream,
  // which spreads the parser's fixed cost over the batch. False (nothing added) unless every
  // payload is exactly one JSON object; the caller then parses them one by one.
  bool stream_rows(std::span<const Message> batch) {
    auto& p = *py_;
    std::string& buf = p.stream_buffer;
    buf.clear();
    p.offsets.clear();
    for (const Message& m : batch) {
      p.offsets.push_back(buf.size());
      buf += m.payload;
      buf.push_back('\n');
    }
    p.offsets.push_back(buf.size());
    const std::size_t len = buf.size();
    buf.append(simdjson::SIMDJSON_PADDING, ' ');
    simdjson::dom::document_stream stream;
    // One window for the whole batch: no background stage-1 thread.
    if (p.stream_parser.parse_many(buf.data(), len, std::max<std::size_t>(len, 4096)).get(stream)) {
      return false;
    }
    std::size_t k = 0;
    for (auto it = stream.begin(); it != stream.end(); ++it) {
      simdjson::dom::element root;
      if ((*it).get(root) || k >= batch.size() || it.current_index() < p.offsets[k] ||
          it.current_index() >= p.offsets[k + 1] ||
          root.type() != simdjson::dom::element_type::OBJECT ||
          !p.columns.add_row(root.get_object().value_unsafe(), p.decoder)) {
        PyErr_Clear();
        p.columns.clear();
        return false;
      }
      ++k;
    }
    if (k != batch.size()) {
      p.columns.clear();
      return false;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) p.index.push_back(i);
    return true;
  }

  // A batch with binary payloads the binary decoder does not take (mixed schemas, mixed with
  // JSON): every payload as JSON, then the JSON columns.
  bool json_batch(std::span<const Message> batch, JobContext& ctx, std::vector<Failure>& failed,
                  CallScope& scope) {
    std::vector<Message> converted(batch.begin(), batch.end());
    std::vector<std::pair<std::size_t, std::string>> undecodable;
    for (std::size_t i = 0; i < converted.size(); ++i) {
      Message& m = converted[i];
      if (!is_binary_message(m.payload)) continue;
      if (auto json = binary_to_json(m.payload)) {
        m.payload = std::move(*json);
      } else {
        undecodable.emplace_back(i, std::string(json.status().message()));
        m.payload.clear();  // fails as JSON below; its reason is the codec's
      }
    }
    const std::size_t first_failure = failed.size();
    const bool done = columnar_batch(converted, ctx, failed, scope, /*try_binary=*/false);
    for (std::size_t f = first_failure; f < failed.size(); ++f) {
      for (const auto& [i, reason] : undecodable) {
        if (failed[f].index == i) failed[f].error = reason;
      }
    }
    return done;
  }

  // Calls process_batch() on the columns built for the rows in `index` (`built`, or the column
  // builder's).
  bool call_batch(std::span<const Message> batch, JobContext& ctx, std::vector<Failure>& failed,
                  CallScope& scope, Ref built = Ref()) {
    auto& p = *py_;
    if (p.index.empty()) return true;
    std::string error;
    Ref cols(built ? built.release() : p.columns.build());
    if (!cols) {
      error = detail::take_python_error();
    } else {
      Ref result(PyObject_CallOneArg(p.batch.get(), cols.get()));
      if (!result) {
        error = message_error();
      } else if (emit_batch_result(result.get(), batch, ctx, error)) {
        return true;
      }
    }
    // One bad row must not sink its neighbours: redo the batch row by row through process().
    ctx.log(stream::LogLevel::kWarning, "process_batch() failed (" + error + "); processing its " +
                                            std::to_string(p.index.size()) +
                                            " messages one by one");
    const std::vector<std::size_t> index = p.index;
    for (std::size_t i : index) process_reported(batch, i, ctx, failed, scope);
    return true;
  }

  // Emits the rows a process_batch() returned; when there is one row per input row, each row
  // goes out under its input's key.
  bool emit_batch_result(PyObject* result, std::span<const Message> batch, JobContext& ctx,
                         std::string& error) {
    auto& p = *py_;
    bool packed = false;  // rows in p.packed (binary) rather than p.outs (JSON)
    if (result == Py_None) return true;
    std::size_t n = 0;
    if (PyDict_Check(result)) {
      if (!p.rows.open(result, error)) return false;
      n = p.rows.size();
      if (p.outs.size() < n) p.outs.resize(n);
      if (ctx.binary_outputs() && binary_rows(ctx, n)) {
        packed = true;
      } else {
        for (std::size_t r = 0; r < n; ++r) {
          p.outs[r].clear();
          if (!p.rows.write_row(r, p.outs[r], error)) {
            error = "process_batch() returned a value that is not JSON-serializable: " + error;
            return false;
          }
        }
      }
    } else if (PyList_Check(result) || PyTuple_Check(result)) {
      n = static_cast<std::size_t>(PySequence_Fast_GET_SIZE(result));
      PyObject** items = PySequence_Fast_ITEMS(result);
      if (p.outs.size() < n) p.outs.resize(n);
      for (std::size_t r = 0; r < n; ++r) {
        if (!PyDict_Check(items[r])) {
          error = std::string("process_batch() returned a list containing ") +
                  Py_TYPE(items[r])->tp_name + "; expected a dict of columns, a list of dicts " +
                  "or None";
          return false;
        }
        p.outs[r].clear();
        if (!detail::write_json(items[r], p.outs[r], error)) {
          error = "process_batch() returned a value that is not JSON-serializable: " + error;
          return false;
        }
      }
    } else {
      error = std::string("process_batch() returned ") + Py_TYPE(result)->tp_name +
              "; expected a dict of columns, a list of dicts or None";
      return false;
    }
    const bool aligned = n == p.index.size();
    for (std::size_t r = 0; r < n; ++r) {
      const std::string_view row = packed ? p.packed.row(r) : std::string_view(p.outs[r]);
      ctx.emit("", aligned ? std::string_view(batch[p.index[r]].key) : std::string_view(), row);
    }
    return true;
  }

  // The rows of the opened columns in the binary codec of the output topic. False when they do
  // not fit it; the JSON rows then go to the transport, which encodes them or says what is wrong.
  bool binary_rows(JobContext& ctx, std::size_t n) {
    auto& p = *py_;
    const std::string& topic = ctx.output_topic();
    if (topic.starts_with(topics::kDeadLetterPrefix)) return false;
    if (!p.rows.bind_binary(schema_for_topic(topic).value_or(Schema::kRecord))) return false;
    // One buffer for the batch: no per-row strings to touch.
    return p.rows.write_binary_rows(p.packed) && p.packed.ends.size() == n + 1;
  }

  std::string display_;
  std::string abs_path_;
  std::string module_name_;
  std::unique_ptr<Py> py_;
};

// --- the pairflow module ---------------------------------------------------------------------

stream::LogLevel parse_level(std::string_view level) {
  if (level == "info") return stream::LogLevel::kInfo;
  if (level == "warning" || level == "warn") return stream::LogLevel::kWarning;
  if (level == "error") return stream::LogLevel::kError;
  if (level == "debug") return stream::LogLevel::kDebug;
  throw py::value_error("pairflow.log(): level must be debug, info, warning or error, not '" +
                        std::string(level) + "'");
}

Timestamp time_arg(const py::handle& value, const char* what) {
  if (py::isinstance<py::bool_>(value))
    throw py::type_error(std::string("pairflow.history(): ") + what + " must be a time, not bool");
  if (py::isinstance<py::int_>(value)) return value.cast<std::int64_t>();
  if (py::isinstance<py::str>(value)) {
    auto t = parse_timestamp(value.cast<std::string>());
    if (!t)
      throw py::value_error(std::string("pairflow.history(): ") + what + ": " +
                            t.status().message());
    return *t;
  }
  py::object ts = py::module_::import("pandas").attr("Timestamp")(value);
  if (!ts.attr("tzinfo").is_none()) ts = ts.attr("tz_convert")("UTC");
  return ts.attr("value").cast<std::int64_t>();
}

}  // namespace

py::object history_frame(const std::string& topic, const py::object& symbol,
                         const py::object& start, const py::object& end, const py::object& db) {
  history::Query q;
  q.topic = topic;
  if (!symbol.is_none()) q.key = py::str(symbol).cast<std::string>();
  if (!start.is_none()) q.from = time_arg(start, "start");
  if (!end.is_none()) q.to = time_arg(end, "end");
  if (q.from >= q.to) throw py::value_error("pairflow.history(): start must be before end");
  const std::string explicit_db = db.is_none() ? "" : py::str(db).cast<std::string>();
  history::Frame frame;
  std::string error;
  {
    py::gil_scoped_release release;  // reading is pure C++: other threads may run Python
    try {
      frame = history::read_frame(history::resolve_history_path(explicit_db), q);
    } catch (const UserError& e) {
      error = e.what();
    }
  }
  if (!error.empty()) throw py::value_error("pairflow.history(): " + error);
  py::module_ pd = py::module_::import("pandas");
  py::dict columns;
  const py::ssize_t n = static_cast<py::ssize_t>(frame.rows);
  for (std::size_t c = 0; c < frame.columns.size(); ++c) {
    history::FrameColumn& col = frame.columns[c];
    auto strings = [&]() {
      py::list out(n);
      for (py::ssize_t r = 0; r < n; ++r) {
        if (col.null[r])
          out[r] = py::none();
        else
          out[r] = py::str(col.text[r]);
      }
      return pd.attr("array")(out, py::arg("dtype") = "object");
    };
    py::object values;
    if (c == 0) {
      py::array_t<std::int64_t> ns(n, col.integer.data());
      values = pd.attr("to_datetime")(ns, py::arg("utc") = true);
    } else {
      switch (col.kind) {
        case history::ColumnKind::kReal:
          values = py::array_t<double>(n, col.real.data());
          break;
        case history::ColumnKind::kInt:
          if (col.beyond_int64) {
            py::list out(n);
            for (py::ssize_t r = 0; r < n; ++r)
              out[r] = col.null[r] ? py::object(py::none())
                                   : py::reinterpret_steal<py::object>(
                                         PyLong_FromString(col.text[r].c_str(), nullptr, 10));
            values = pd.attr("array")(out, py::arg("dtype") = "object");
          } else if (col.has_null) {
            py::array_t<double> out(n);
            double* p = out.mutable_data();
            for (py::ssize_t r = 0; r < n; ++r)
              p[r] = col.null[r] ? std::numeric_limits<double>::quiet_NaN()
                                 : static_cast<double>(col.integer[r]);
            values = out;
          } else {
            values = py::array_t<std::int64_t>(n, col.integer.data());
          }
          break;
        case history::ColumnKind::kBool: {
          py::list out(n);
          for (py::ssize_t r = 0; r < n; ++r)
            out[r] = col.null[r] ? py::object(py::none()) : py::object(py::bool_(col.integer[r]));
          values = pd.attr("array")(out, py::arg("dtype") = col.has_null ? "object" : "bool");
          break;
        }
        case history::ColumnKind::kText:
        case history::ColumnKind::kJson:
          values = strings();
          break;
      }
    }
    columns[py::str(col.name)] = values;
  }
  return pd.attr("DataFrame")(columns);
}

// The research package (python/pairflow with its _core extension) loaded under the name
// pairflow_research, since `pairflow` is this embedded module: from $PAIRFLOW_PYTHON_PATH, the
// build tree next to this executable (build/bin -> build/python), or sys.path (a pip install).
py::object research_module() {
  // The GIL guards it; never destroyed (the interpreter may be gone by then).
  static py::object* module = nullptr;
  if (module) return *module;
  py::dict scope;
  py::exec(R"PY(
import glob, importlib.util, os, sys

def load():
    if "pairflow_research" in sys.modules:
        return sys.modules["pairflow_research"]
    roots = []
    if os.environ.get("PAIRFLOW_PYTHON_PATH"):
        roots.append(os.environ["PAIRFLOW_PYTHON_PATH"])
    exe = os.path.realpath("/proc/self/exe")
    roots.append(os.path.join(os.path.dirname(os.path.dirname(exe)), "python"))
    roots += [p for p in sys.path if p]
    for root in roots:
        package = os.path.join(root, "pairflow")
        init = os.path.join(package, "__init__.py")
        if os.path.isfile(init) and glob.glob(os.path.join(package, "_core*.so")):
            spec = importlib.util.spec_from_file_location(
                "pairflow_research", init, submodule_search_locations=[package])
            module = importlib.util.module_from_spec(spec)
            sys.modules["pairflow_research"] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules["pairflow_research"]
                raise
            return module
    raise AttributeError(
        "pairflow's research API (pairflow.stats, pairflow.screen, ...) is not installed: build "
        "the release preset (build/python) or pip install ./python, or set PAIRFLOW_PYTHON_PATH")
)PY",
           scope);
  module = new py::object(scope["load"]());
  return *module;
}

std::unique_ptr<stream::Job> load_python_job(const std::string& path) {
  ensure_interpreter();
  auto job = std::make_unique<PythonJob>(path);
  job->load();
  return job;
}

}  // namespace pairflow::embed

PYBIND11_EMBEDDED_MODULE(pairflow, m) {
  using pairflow::embed::CurrentCall;
  using pairflow::embed::require_call;
  m.doc() = "The runtime, as seen from a pairflow Python job.";

  m.def(
      "emit",
      [](std::string_view topic, py::handle msg, py::handle key) {
        CurrentCall& call = require_call("emit");
        if (!PyDict_Check(msg.ptr())) {
          throw py::type_error(std::string("pairflow.emit(): msg must be a dict, not ") +
                               Py_TYPE(msg.ptr())->tp_name);
        }
        std::string& out = call.job->emit_buffer();
        out.clear();
        std::string error;
        if (!pairflow::embed::detail::write_json(msg.ptr(), out, error)) {
          throw py::type_error("pairflow.emit(): " + error);
        }
        std::string_view k;
        if (key.is_none()) {
          if (call.key) k = *call.key;
        } else if (PyUnicode_Check(key.ptr())) {
          Py_ssize_t n = 0;
          const char* s = PyUnicode_AsUTF8AndSize(key.ptr(), &n);
          if (!s) throw py::error_already_set();
          k = std::string_view(s, n);
        } else {
          throw py::type_error(std::string("pairflow.emit(): key must be a str or None, not ") +
                               Py_TYPE(key.ptr())->tp_name);
        }
        call.ctx->emit(topic, k, out);
      },
      py::arg("topic"), py::arg("msg"), py::arg("key") = py::none(),
      "Publishes the dict `msg` to `topic` (\"\" = the job's output topic) under `key` (None = "
      "the key of the message being processed).");

  m.def(
      "log",
      [](std::string_view text, std::string_view level) {
        auto lvl = pairflow::embed::parse_level(level);
        if (!pairflow::embed::t_call || !pairflow::embed::t_call->ctx) {
          // Module-level code runs at load, before any context exists.
          py::print(py::str("pairflow [{}] {}").format(level, text),
                    py::arg("file") = py::module_::import("sys").attr("stderr"));
          return;
        }
        pairflow::embed::t_call->ctx->log(lvl, text);
      },
      py::arg("text"), py::arg("level") = "info", "Logs a line through the runtime.");

  m.def(
      "metric",
      [](std::string_view name, double value) { require_call("metric").ctx->metric(name, value); },
      py::arg("name"), py::arg("value") = 1.0, "Adds `value` to the job's metric `name`.");

  m.def(
      "history",
      [](const std::string& topic, py::object symbol, py::object start, py::object end,
         py::object db) { return pairflow::embed::history_frame(topic, symbol, start, end, db); },
      py::arg("topic"), py::arg("symbol") = py::none(), py::arg("start") = py::none(),
      py::arg("end") = py::none(), py::arg("db") = py::none(),
      "Rows of `topic` from the history file (db=, else $PAIRFLOW_HISTORY) as a pandas DataFrame "
      "in event-time order: `ts` (datetime64[ns, UTC]) and one column per field. `symbol` (a "
      "symbol or pair) limits it to one key; `start` (inclusive) and `end` (exclusive) are ISO "
      "strings, integer nanoseconds or pandas/datetime timestamps (naive ones are UTC).");

  // `pairflow.state` resolves per job and per thread (PEP 562 module __getattr__), so jobs that
  // share the interpreter, even on different threads, each see their own dict.
  m.def("__getattr__", [](const std::string& name) -> py::object {
    if (name == "state") {
      if (!pairflow::embed::t_call) {
        throw py::attribute_error("pairflow.state exists only while a job is loaded or running");
      }
      return py::reinterpret_borrow<py::object>(pairflow::embed::t_call->job->state());
    }
    // The research API (pairflow.stats, .screen, .backtest, ...: the Python module of
    // src/pymodule) resolves here, so code written in a notebook runs in a job unchanged.
    static const char* const kResearch[] = {"stats",    "features", "gen",        "screen",
                                            "Screener", "backtest", "read_ticks", "BacktestResult",
                                            "to_toml",  "Error"};
    for (const char* research : kResearch)
      if (name == research) return pairflow::embed::research_module().attr(name.c_str());
    throw py::attribute_error("module 'pairflow' has no attribute '" + name + "'");
  });
}
