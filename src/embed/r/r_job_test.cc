// Tests of the R job host. R starts once per process (RInside is a singleton): every test shares
// it, which is also what checks that jobs loaded side by side stay isolated.
#include "embed/r/r_job.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace pairflow::embed {
namespace {

namespace fs = std::filesystem;
using stream::JobError;
using stream::LogLevel;
using stream::Message;

// Records what a job does with its context.
class RecordingContext : public stream::JobContext {
 public:
  struct Emitted {
    std::string topic, key, json;
  };
  void emit(std::string_view topic, std::string_view key, std::string_view json) override {
    emitted.push_back({std::string(topic), std::string(key), std::string(json)});
  }
  void log(LogLevel level, std::string_view text) override {
    logs.emplace_back(level, std::string(text));
  }
  void metric(std::string_view name, double value) override {
    metrics.emplace_back(std::string(name), value);
  }
  const std::string& job_name() const override { return name; }
  const std::string& output_topic() const override { return topic; }
  const std::string& params_json() const override { return params; }

  std::vector<Emitted> emitted;
  std::vector<std::pair<LogLevel, std::string>> logs;
  std::vector<std::pair<std::string, double>> metrics;
  std::string name = "test_job";
  std::string topic = "out";
  std::string params = "{}";
};

// A directory of job files for this process, removed at exit.
const fs::path& job_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("pairflow_r_job_test_" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

class CleanUp : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(job_dir(), ec);
  }
};
const auto* const kCleanUp = ::testing::AddGlobalTestEnvironment(new CleanUp);

std::string write_job(const std::string& name, const std::string& code) {
  const fs::path path = job_dir() / name;
  std::ofstream(path) << code;
  return path.string();
}

Message message(std::string payload) {
  Message m;
  m.topic = "in";
  m.payload = std::move(payload);
  return m;
}

std::string load_error(const std::string& path) {
  try {
    load_r_job(path);
  } catch (const JobError& e) {
    return e.what();
  }
  return "(loaded)";
}

std::string process_error(stream::Job& job, const std::string& payload, RecordingContext& ctx) {
  try {
    job.process(message(payload), ctx);
  } catch (const JobError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(RJobTest, JsonTypesRoundTrip) {
  auto job = load_r_job(write_job("echo.R", "process <- function(msg) msg\n"));
  RecordingContext ctx;
  job->setup(ctx);
  const std::string in =
      R"({"i":1,"d":2.5,"s":"h\"i\\\n\u00e9","b":true,"f":false,"n":null,"arr":[1,2.25,-3],)"
      R"("sarr":["a",null],"barr":[true,null],"obj":{"x":[true,false],"y":{}},"mixed":[1,"a"],)"
      R"("objs":[{"a":1},{"a":2}],"big":12345678901,"e":1e-7})";
  job->process(message(in), ctx);
  ASSERT_EQ(ctx.emitted.size(), 1u);
  EXPECT_EQ(ctx.emitted[0].topic, "");
  EXPECT_EQ(ctx.emitted[0].key, "");
  EXPECT_EQ(
      ctx.emitted[0].json,
      R"({"i":1,"d":2.5,"s":"h\"i\\\n)"
      "\xc3\xa9"
      R"(","b":true,"f":false,"n":null,"arr":[1,2.25,-3],)"
      R"("sarr":["a",null],"barr":[true,null],"obj":{"x":[true,false],"y":{}},"mixed":[1,"a"],)"
      R"("objs":[{"a":1},{"a":2}],"big":12345678901,"e":0.0000001})");
}

TEST(RJobTest, NanosecondIntegersPassThroughExactly) {
  // R holds 1704205800123456789 as the nearest double (...456768); written back, a value equal to
  // it is the input's exact integer again, wherever it ends up. A value R computed from it is a
  // different double and prints as one.
  auto job = load_r_job(write_job("ns.R", R"(
process <- function(msg) {
  list(ts = msg$ts, renamed = msg$ts, in_vector = c(msg$ts, msg$ids), ids = msg$ids,
       next_minute = msg$ts + 60e9, neg = msg$neg, small = msg$small)
}
)"));
  RecordingContext ctx;
  job->process(message(R"({"ts":1704205800123456789,"ids":[18446744073709551615,3],)"
                       R"("neg":-1704205800123456789,"small":1704205800123})"),
               ctx);
  ASSERT_EQ(ctx.emitted.size(), 1u);
  EXPECT_EQ(ctx.emitted[0].json,
            R"({"ts":1704205800123456789,"renamed":1704205800123456789,)"
            R"("in_vector":[1704205800123456789,18446744073709551615,3],)"
            R"("ids":[18446744073709551615,3],"next_minute":1704205860123456768,)"
            R"("neg":-1704205800123456789,"small":1704205800123})");
  // The next message forgets this one's integers.
  job->process(message(R"({"ts":1,"ids":[2],"neg":3,"small":4})"), ctx);
  ASSERT_EQ(ctx.emitted.size(), 2u);
  EXPECT_EQ(ctx.emitted[1].json.substr(0, 8), R"({"ts":1,)");
}

TEST(RJobTest, RValuesToJson) {
  auto job = load_r_job(write_job("values.R", R"(
process <- function(msg) {
  list(na = NA, nan = NaN, inf = -Inf, int = 5L, na_int = NA_integer_, vec = c(1.5, NA),
       third = 1 / 3, huge = 1e21, chr = c("a", NA), fac = factor(c("lo", "hi")),
       one_fac = factor("x"), empty = numeric(0), nested = list(1, "a", list(b = TRUE)),
       null = NULL, keyed = c(a = 1), date = as.numeric(as.Date("2024-01-02")),
       million = 1e6, tiny = 1.5e-8, ns = 1704205800000000000, small = 0.0001,
       is_empty = length(msg$empty) == 0 && is.null(msg$empty),
       types = c(class(msg$num), class(msg$nums), class(msg$strs), class(msg$obj)))
}
)"));
  RecordingContext ctx;
  job->process(message(R"({"empty":[],"num":1,"nums":[1,null],"strs":["x"],"obj":{"a":1}})"), ctx);
  ASSERT_EQ(ctx.emitted.size(), 1u);
  EXPECT_EQ(
      ctx.emitted[0].json,
      R"({"na":null,"nan":null,"inf":null,"int":5,"na_int":null,"vec":[1.5,null],)"
      R"("third":0.3333333333333333,"huge":1e+21,"chr":["a",null],"fac":["lo","hi"],)"
      R"("one_fac":"x","empty":[],"nested":[1,"a",{"b":true}],"null":null,"keyed":1,)"
      R"("date":19724,"million":1000000,"tiny":1.5e-08,"ns":1704205800000000000,"small":0.0001,)"
      R"("is_empty":true,"types":["numeric","numeric","character","list"]})");
}

TEST(RJobTest, SeveralMessagesNullAndDataFrames) {
  auto job = load_r_job(write_job("multi.R", R"(
process <- function(msg) {
  if (msg$kind == "none") return(NULL)
  if (msg$kind == "empty") return(list())
  if (msg$kind == "df") return(data.frame(a = 1:2, b = c("x", "y")))
  list(list(n = 1), NULL, list(n = 2))
}
)"));
  RecordingContext ctx;
  job->process(message(R"({"kind":"none"})"), ctx);
  job->process(message(R"({"kind":"empty"})"), ctx);
  EXPECT_TRUE(ctx.emitted.empty());
  job->process(message(R"({"kind":"many"})"), ctx);
  ASSERT_EQ(ctx.emitted.size(), 2u);
  EXPECT_EQ(ctx.emitted[0].json, R"({"n":1})");
  EXPECT_EQ(ctx.emitted[1].json, R"({"n":2})");
  job->process(message(R"({"kind":"df"})"), ctx);
  ASSERT_EQ(ctx.emitted.size(), 4u);
  EXPECT_EQ(ctx.emitted[2].json, R"({"a":1,"b":"x"})");
  EXPECT_EQ(ctx.emitted[3].json, R"({"a":2,"b":"y"})");
}

TEST(RJobTest, FinishPublishesWhatIsPending) {
  auto job = load_r_job(write_job("finish.R", R"(
process <- function(msg) { pairflow_state$n <- c(pairflow_state$n, msg$x); NULL }
finish <- function(ctx) list(total = sum(pairflow_state$n), job = ctx$name)
)"));
  RecordingContext ctx;
  job->process(message(R"({"x":2})"), ctx);
  job->process(message(R"({"x":3})"), ctx);
  job->finish(ctx);
  ASSERT_EQ(ctx.emitted.size(), 1u);
  EXPECT_EQ(ctx.emitted[0].json, R"({"total":5,"job":"test_job"})");

  auto without = load_r_job(write_job("nofinish.R", "process <- function(msg) NULL\n"));
  without->finish(ctx);  // optional
  EXPECT_EQ(ctx.emitted.size(), 1u);
}

TEST(RJobTest, EmitsToAnotherTopic) {
  auto job = load_r_job(write_job("emit.R", R"(
process <- function(msg) {
  pairflow_emit("alerts", list(level = msg$x * 2), key = "k1")
  pairflow_emit("audit", list(seen = TRUE))
  NULL
}
)"));
  RecordingContext ctx;
  job->process(message(R"({"x":21})"), ctx);
  ASSERT_EQ(ctx.emitted.size(), 2u);
  EXPECT_EQ(ctx.emitted[0].topic, "alerts");
  EXPECT_EQ(ctx.emitted[0].key, "k1");
  EXPECT_EQ(ctx.emitted[0].json, R"({"level":42})");
  EXPECT_EQ(ctx.emitted[1].topic, "audit");
  EXPECT_EQ(ctx.emitted[1].key, "");
}

TEST(RJobTest, SetupSeesContext) {
  auto job = load_r_job(write_job("setup.R", R"(
setup <- function(ctx) {
  pairflow_state$window <- ctx$params$window
  pairflow_state$who <- paste(ctx$name, ctx$output_topic)
}
process <- function(msg) list(window = pairflow_state$window, who = pairflow_state$who)
)"));
  RecordingContext ctx;
  ctx.params = R"({"window":20})";
  job->setup(ctx);
  job->process(message("{}"), ctx);
  ASSERT_EQ(ctx.emitted.size(), 1u);
  EXPECT_EQ(ctx.emitted[0].json, R"({"window":20,"who":"test_job out"})");
}

TEST(RJobTest, StateSurvivesSnapshotAndRestore) {
  const std::string code = R"(
setup <- function(ctx) {
  pairflow_state$count <- 0
  pairflow_state$recent <- numeric(0)
}
process <- function(msg) {
  pairflow_state$count <- pairflow_state$count + 1
  pairflow_state$recent <- tail(c(pairflow_state$recent, msg$x), 3)
  list(count = pairflow_state$count, mean = mean(pairflow_state$recent))
}
recover <- function(ctx) {
  pairflow_log(sprintf("recovered at %d", as.integer(pairflow_state$count)))
  pairflow_state$recovered <- TRUE
}
)";
  const std::string path = write_job("stateful.R", code);
  RecordingContext ctx;
  std::string snapshot;
  {
    auto job = load_r_job(path);
    job->setup(ctx);
    EXPECT_EQ(job->snapshot_state(), R"({"count":0,"recent":[]})");
    for (int x : {1, 2, 3, 4}) job->process(message(R"({"x":)" + std::to_string(x) + "}"), ctx);
    snapshot = job->snapshot_state();
  }
  EXPECT_EQ(snapshot, R"({"count":4,"recent":[2,3,4]})");

  auto fresh = load_r_job(path);
  RecordingContext ctx2;
  fresh->setup(ctx2);
  fresh->restore_state(snapshot);
  fresh->recover(ctx2);
  ASSERT_EQ(ctx2.logs.size(), 1u);
  EXPECT_EQ(ctx2.logs[0].second, "recovered at 4");
  fresh->process(message(R"({"x":8})"), ctx2);
  ASSERT_EQ(ctx2.emitted.size(), 1u);
  EXPECT_EQ(ctx2.emitted[0].json, R"({"count":5,"mean":5})");
  EXPECT_EQ(fresh->snapshot_state(), R"({"count":5,"recent":[3,4,8],"recovered":true})");

  // An empty window also survives: [] comes back as NULL, which c() and length() accept.
  auto empty = load_r_job(path);
  empty->setup(ctx2);
  empty->restore_state(R"({"count":0,"recent":[]})");
  empty->process(message(R"({"x":6})"), ctx2);
  EXPECT_EQ(ctx2.emitted.back().json, R"({"count":1,"mean":6})");
}

TEST(RJobTest, LogsMetricsAndConsoleReachTheContext) {
  auto job = load_r_job(write_job("log.R", R"(
process <- function(msg) {
  pairflow_log("plain")
  pairflow_log(c("two", "words"), level = "warning")
  pairflow_metric("seen")
  pairflow_metric("volume", msg$qty)
  print("printed")
  cat("partial")
  warning("careful")
  NULL
}
)"));
  RecordingContext ctx;
  job->process(message(R"({"qty":250})"), ctx);
  ASSERT_EQ(ctx.metrics.size(), 2u);
  EXPECT_EQ(ctx.metrics[0], std::make_pair(std::string("seen"), 1.0));
  EXPECT_EQ(ctx.metrics[1], std::make_pair(std::string("volume"), 250.0));
  ASSERT_GE(ctx.logs.size(), 5u);
  EXPECT_EQ(ctx.logs[0], std::make_pair(LogLevel::kInfo, std::string("plain")));
  EXPECT_EQ(ctx.logs[1], std::make_pair(LogLevel::kWarning, std::string("two words")));
  EXPECT_EQ(ctx.logs[2], std::make_pair(LogLevel::kInfo, std::string("[1] \"printed\"")));
  bool saw_warning = false, saw_partial = false;
  for (const auto& [level, text] : ctx.logs) {
    if (level == LogLevel::kWarning && text.find("careful") != std::string::npos) {
      saw_warning = true;
    }
    if (text == "partial") saw_partial = true;
  }
  EXPECT_TRUE(saw_warning);
  EXPECT_TRUE(saw_partial);

  auto bad = load_r_job(write_job("badlog.R", "process <- function(msg) pairflow_log(1)\n"));
  EXPECT_NE(process_error(*bad, "{}", ctx).find("text must be a character string"),
            std::string::npos);
}

TEST(RJobTest, RErrorsBecomeJobErrorsWithLineAndTheJobGoesOn) {
  const std::string path = write_job("fails.R", R"(helper <- function(x) {
  stop("boom: ", x)
}
process <- function(msg) {
  if (msg$mode == "stop") helper(msg$v)
  if (msg$mode == "builtin") {
    y <- 1
    z <- "a" + y
  }
  if (msg$mode == "emit") pairflow_emit("t", 5)
  if (msg$mode == "deep") { f <- function(n) f(n + 1); f(1) }
  list(ok = TRUE)
}
)");
  auto job = load_r_job(path);
  RecordingContext ctx;
  EXPECT_EQ(process_error(*job, R"({"mode":"stop","v":7})", ctx),
            path + ":2: in helper(msg$v): boom: 7");
  EXPECT_EQ(process_error(*job, R"({"mode":"builtin"})", ctx),
            path + ":8: in \"a\" + y: non-numeric argument to binary operator");
  const std::string emit_error = process_error(*job, R"({"mode":"emit"})", ctx);
  EXPECT_EQ(emit_error.rfind(path + ":10: in pairflow_emit(\"t\", 5): msg must be a named list", 0),
            0u)
      << emit_error;
  // Runaway recursion is an error too, not a crash (R's stack has no room left for line lookup).
  const std::string deep = process_error(*job, R"({"mode":"deep"})", ctx);
  EXPECT_NE(deep.find("nested too deeply"), std::string::npos) << deep;
  EXPECT_TRUE(ctx.emitted.empty());

  job->process(message(R"({"mode":"fine"})"), ctx);
  ASSERT_EQ(ctx.emitted.size(), 1u);
  EXPECT_EQ(ctx.emitted[0].json, R"({"ok":true})");

  EXPECT_NE(process_error(*job, "{not json", ctx).find("payload is not valid JSON"),
            std::string::npos);
}

TEST(RJobTest, WrongReturnTypesAreJobErrors) {
  const std::string path = write_job("wrong.R", R"(
process <- function(msg) {
  switch(msg$kind, number = 42, string = "x", unnamed = list(1, 2), fun = list(f = sum))
}
)");
  auto job = load_r_job(path);
  RecordingContext ctx;
  EXPECT_EQ(process_error(*job, R"({"kind":"number"})", ctx),
            path +
                ": process() must return a named list (one message), a list of named lists "
                "or NULL, not a numeric vector (length 1)");
  EXPECT_NE(process_error(*job, R"({"kind":"string"})", ctx).find("a character vector"),
            std::string::npos);
  EXPECT_NE(process_error(*job, R"({"kind":"unnamed"})", ctx)
                .find("element 1 is a numeric vector (length 1), not a named list"),
            std::string::npos);
  EXPECT_EQ(process_error(*job, R"({"kind":"fun"})", ctx),
            path + ": cannot convert a function to JSON");
  EXPECT_TRUE(ctx.emitted.empty());
}

TEST(RJobTest, LoadErrorsNameFileAndLine) {
  const std::string syntax =
      write_job("syntax.R", "x <- 1\nprocess <- function(msg) {\n  y <- )\n}\n");
  EXPECT_EQ(load_error(syntax), syntax + ":3: syntax error: unexpected ')' (column 8)");

  const std::string unclosed = write_job("unclosed.R", "process <- function(msg) {\n  msg\n");
  EXPECT_EQ(load_error(unclosed).rfind(unclosed + ":", 0), 0u);
  EXPECT_NE(load_error(unclosed).find("unexpected end of input"), std::string::npos);

  const std::string missing = write_job("noprocess.R", "setup <- function(ctx) NULL\n");
  EXPECT_EQ(load_error(missing),
            missing + ": no process function (define process <- function(msg) ...)");

  const std::string not_fn = write_job("notfn.R", "process <- 42\n");
  EXPECT_EQ(load_error(not_fn), not_fn + ": 'process' must be a function");

  const std::string top = write_job("toplevel.R", "a <- 1\n\nstop(\"no data dir\")\n");
  EXPECT_EQ(load_error(top), top + ":3: no data dir");

  const std::string pkg = write_job("pkg.R", "library(surely.not.installed)\n");
  EXPECT_EQ(load_error(pkg).rfind(pkg + ":1: in library(surely.not.installed): ", 0), 0u)
      << load_error(pkg);

  const std::string absent = (job_dir() / "absent.R").string();
  EXPECT_EQ(load_error(absent), absent + ": cannot read the job file (no such file)");
}

TEST(RJobTest, JobsAreIsolated) {
  auto a = load_r_job(write_job("a.R", R"(
who <- "a"
process <- function(msg) { pairflow_state$n <- 1; list(who = who) }
)"));
  auto b = load_r_job(write_job("b.R", R"(
who <- "b"
process <- function(msg) list(who = who, a_state = exists("n", envir = pairflow_state))
)"));
  RecordingContext ctx;
  a->process(message("{}"), ctx);
  b->process(message("{}"), ctx);
  ASSERT_EQ(ctx.emitted.size(), 2u);
  EXPECT_EQ(ctx.emitted[0].json, R"({"who":"a"})");
  EXPECT_EQ(ctx.emitted[1].json, R"({"who":"b","a_state":false})");
  EXPECT_EQ(a->snapshot_state(), R"({"n":1})");
  EXPECT_EQ(b->snapshot_state(), "{}");
}

TEST(RJobTest, OtherThreadsAreRefused) {
  auto job = load_r_job(write_job("thread.R", "process <- function(msg) msg\n"));
  std::string error;
  std::thread other([&] {
    RecordingContext ctx;
    try {
      job->process(message("{}"), ctx);
    } catch (const JobError& e) {
      error = e.what();
    }
    job.reset();  // destroying elsewhere is allowed: R releases the job later
  });
  other.join();
  EXPECT_NE(error.find("thread that started R"), std::string::npos) << error;
  // The release queued by the other thread happens on this thread's next call.
  auto again = load_r_job(write_job("thread2.R", "process <- function(msg) NULL\n"));
  RecordingContext ctx;
  again->process(message("{}"), ctx);
}

std::string example(const std::string& name) {
  const char* root = std::getenv("PAIRFLOW_SOURCE_DIR");
  return (fs::path(root ? root : PAIRFLOW_SOURCE_DIR_DEFAULT) / "examples" / "jobs" / name)
      .string();
}

std::string bar(const char* symbol, int minute, double close) {
  return R"({"ts":)" + std::to_string(1704205800000 + minute * 60000) + R"(,"symbol":")" + symbol +
         R"(","close":)" + std::to_string(close) + "}";
}

TEST(RJobTest, ExampleJobs) {
  RecordingContext ctx;
  auto passthrough = load_r_job(example("passthrough.R"));
  passthrough->process(message(R"({"a":1})"), ctx);
  ASSERT_EQ(ctx.emitted.size(), 1u);
  EXPECT_EQ(ctx.emitted[0].json, R"({"a":1})");

  const std::string path = example("spread_zscore.R");
  ctx = RecordingContext();
  ctx.params = R"({"y":"AAA","x":"BBB","window":3,"alert_z":1.1})";
  auto job = load_r_job(path);
  job->setup(ctx);
  const double ys[] = {100, 101, 99, 120}, xs[] = {50, 50, 50, 50};
  for (int i = 0; i < 3; ++i) {
    job->process(message(bar("AAA", i, ys[i])), ctx);
    job->process(message(bar("CCC", i, 7)), ctx);  // not in the pair: ignored
    job->process(message(bar("BBB", i, xs[i])), ctx);
  }
  ASSERT_EQ(ctx.emitted.size(), 1u);  // the window filled at the third bar
  EXPECT_NE(ctx.emitted[0].json.find(R"("ts":1704205920000,"y":"AAA","x":"BBB")"),
            std::string::npos)
      << ctx.emitted[0].json;

  // A restarted copy resumes with the saved window: its first full bar publishes at once.
  const std::string saved = job->snapshot_state();
  RecordingContext ctx2;
  ctx2.params = ctx.params;
  auto restarted = load_r_job(path);
  restarted->setup(ctx2);
  restarted->restore_state(saved);
  restarted->recover(ctx2);
  restarted->process(message(bar("AAA", 3, ys[3])), ctx2);
  restarted->process(message(bar("BBB", 3, xs[3])), ctx2);
  ASSERT_EQ(ctx2.emitted.size(), 2u);  // an alert (z = 1.15 >= 1.1) and the output
  EXPECT_EQ(ctx2.emitted[0].topic, "alerts");
  EXPECT_EQ(ctx2.emitted[1].topic, "");
  EXPECT_EQ(ctx2.logs.back().second, "resuming with 3 of 3 bars");
}

}  // namespace
}  // namespace pairflow::embed
