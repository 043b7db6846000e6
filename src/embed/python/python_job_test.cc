#include "embed/python/python_job.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "model/binary_codec.h"

// The embedded interpreter lives as long as the process by design (never finalized while jobs
// may exist), so LeakSanitizer's exit-time report would only list Python's own heap.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }

namespace pairflow::embed {
namespace {

namespace fs = std::filesystem;
using stream::Job;
using stream::JobContext;
using stream::JobError;
using stream::LogLevel;
using stream::Message;

// Records everything a job does through its context.
class RecordingContext : public JobContext {
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
  void metric(std::string_view name, double value) override { metrics[std::string(name)] += value; }
  const std::string& job_name() const override { return name; }
  const std::string& output_topic() const override { return output; }
  const std::string& params_json() const override { return params; }
  bool binary_outputs() const override { return binary; }

  std::vector<std::string> jsons() const {
    std::vector<std::string> out;
    for (const auto& e : emitted) out.push_back(e.json);
    return out;
  }

  std::vector<Emitted> emitted;
  std::vector<std::pair<LogLevel, std::string>> logs;
  std::map<std::string, double> metrics;
  std::string name = "test_job";
  std::string output = "features.test";
  std::string params = R"({"window": 20, "label": "w"})";
  bool binary = false;
};

Message msg(std::string payload, std::string key = "AAA") {
  Message m;
  m.topic = "in";
  m.key = std::move(key);
  m.payload = std::move(payload);
  return m;
}

class PythonJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pairflow_pyjob_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& source) {
    fs::path p = dir_ / name;
    std::ofstream(p) << source;
    return p.string();
  }

  std::unique_ptr<Job> load(const std::string& name, const std::string& source) {
    return load_python_job(write(name, source));
  }

  // The message of the JobError thrown by loading `source`.
  std::string load_error(const std::string& name, const std::string& source) {
    try {
      load(name, source);
    } catch (const JobError& e) {
      return e.what();
    }
    ADD_FAILURE() << "loading " << name << " did not fail";
    return "";
  }

  fs::path dir_;
};

TEST_F(PythonJobTest, RoundTripsTypes) {
  auto job = load("types.py", R"(
import numpy as np
import pairflow

def process(msg):
    msg["types"] = ",".join(type(msg[k]).__name__ for k in ("i", "f", "s", "b", "n", "l", "o", "big"))
    msg["added"] = 1
    msg["nan"] = float("nan")
    msg["inf"] = float("-inf")
    msg["np_f"] = np.float64(2.5)
    msg["np_i"] = np.int64(7)
    msg["np_b"] = np.bool_(True)
    msg["np_a"] = np.array([1.5, 2.0])
    msg["tenth"] = 0.1
    msg["whole"] = 2.0
    msg["tuple"] = (1, "a")
    msg["esc"] = "tab\there\nnew \u00e9"
    return msg
)");
  RecordingContext ctx;
  job->setup(ctx);
  job->process(msg(R"({"i":1,"f":1.5,"s":"a\"b","b":true,"n":null,"l":[1,2.0,"x"],)"
                   R"("o":{"k":-3},"big":12345678901234567890})"),
               ctx);
  ASSERT_EQ(ctx.emitted.size(), 1u);
  EXPECT_EQ(ctx.emitted[0].topic, "");
  EXPECT_EQ(ctx.emitted[0].key, "");
  EXPECT_EQ(ctx.emitted[0].json,
            R"({"i":1,"f":1.5,"s":"a\"b","b":true,"n":null,"l":[1,2.0,"x"],"o":{"k":-3},)"
            R"("big":12345678901234567890,"types":"int,float,str,bool,NoneType,list,dict,int",)"
            R"("added":1,"nan":null,"inf":null,"np_f":2.5,"np_i":7,"np_b":true,)"
            R"("np_a":[1.5,2.0],"tenth":0.1,"whole":2.0,"tuple":[1,"a"],)"
            "\"esc\":\"tab\\there\\nnew \xc3\xa9\"}");
}

TEST_F(PythonJobTest, ListAndNoneReturns) {
  auto job = load("list.py", R"(
def process(msg):
    if msg["x"] % 2:
        return None
    return [{"x": msg["x"], "part": 1}, {"x": msg["x"], "part": 2}]
)");
  RecordingContext ctx;
  job->process(msg(R"({"x": 1})"), ctx);
  EXPECT_TRUE(ctx.emitted.empty());
  job->process(msg(R"({"x": 2})"), ctx);
  EXPECT_EQ(ctx.jsons(), (std::vector<std::string>{R"({"x":2,"part":1})", R"({"x":2,"part":2})"}));
}

TEST_F(PythonJobTest, EmitsToOtherTopics) {
  auto job = load("emit.py", R"(
import pairflow

def process(msg):
    pairflow.emit("alerts", {"level": "high"})
    pairflow.emit("audit", {"seen": msg["x"]}, key="k2")
)");
  RecordingContext ctx;
  job->process(msg(R"({"x": 5})", "SYM"), ctx);
  ASSERT_EQ(ctx.emitted.size(), 2u);
  EXPECT_EQ(ctx.emitted[0].topic, "alerts");
  EXPECT_EQ(ctx.emitted[0].key, "SYM");
  EXPECT_EQ(ctx.emitted[0].json, R"({"level":"high"})");
  EXPECT_EQ(ctx.emitted[1].topic, "audit");
  EXPECT_EQ(ctx.emitted[1].key, "k2");
  EXPECT_EQ(ctx.emitted[1].json, R"({"seen":5})");
}

TEST_F(PythonJobTest, SetupSeesContext) {
  auto job = load("setup.py", R"(
import pairflow
cfg = {}

def setup(ctx):
    cfg.update(name=ctx.name, window=ctx.params["window"], out=ctx.output_topic)

def process(msg):
    return dict(cfg)
)");
  RecordingContext ctx;
  job->setup(ctx);
  job->process(msg("{}"), ctx);
  EXPECT_EQ(ctx.jsons(),
            std::vector<std::string>{R"({"name":"test_job","window":20,"out":"features.test"})"});
}

constexpr const char* kCounter = R"(
import pairflow
from pairflow import state

def setup(ctx):
    state.setdefault("counts", {})

def process(msg):
    counts = pairflow.state["counts"]
    counts[msg["sym"]] = counts.get(msg["sym"], 0) + 1
    return {"sym": msg["sym"], "n": counts[msg["sym"]]}

def recover(ctx):
    pairflow.log("recovered %d symbols" % len(state["counts"]))
    state["recovered"] = True
)";

TEST_F(PythonJobTest, StatePersistsAcrossSnapshotAndRestore) {
  std::string path = write("counter.py", kCounter);
  std::string snapshot;
  {
    auto job = load_python_job(path);
    RecordingContext ctx;
    job->setup(ctx);
    job->process(msg(R"({"sym":"A"})"), ctx);
    job->process(msg(R"({"sym":"A"})"), ctx);
    job->process(msg(R"({"sym":"B"})"), ctx);
    snapshot = job->snapshot_state();
  }
  EXPECT_EQ(snapshot, R"({"counts":{"A":2,"B":1}})");

  auto job = load_python_job(path);
  RecordingContext ctx;
  job->setup(ctx);
  job->restore_state(snapshot);
  job->recover(ctx);
  ASSERT_EQ(ctx.logs.size(), 1u);
  EXPECT_EQ(ctx.logs[0].second, "recovered 2 symbols");
  job->process(msg(R"({"sym":"A"})"), ctx);
  EXPECT_EQ(ctx.jsons(), std::vector<std::string>{R"({"sym":"A","n":3})"});
  EXPECT_EQ(job->snapshot_state(), R"({"counts":{"A":3,"B":1},"recovered":true})");
}

TEST_F(PythonJobTest, LogAndMetricReachTheContext) {
  auto job = load("logs.py", R"(
import pairflow

def process(msg):
    pairflow.log("hello")
    pairflow.log("careful", level="warning")
    pairflow.metric("seen")
    pairflow.metric("volume", msg["v"])
)");
  RecordingContext ctx;
  job->process(msg(R"({"v": 2.5})"), ctx);
  job->process(msg(R"({"v": 1})"), ctx);
  ASSERT_EQ(ctx.logs.size(), 4u);
  EXPECT_EQ(ctx.logs[0], std::make_pair(LogLevel::kInfo, std::string("hello")));
  EXPECT_EQ(ctx.logs[1], std::make_pair(LogLevel::kWarning, std::string("careful")));
  EXPECT_DOUBLE_EQ(ctx.metrics["seen"], 2.0);
  EXPECT_DOUBLE_EQ(ctx.metrics["volume"], 3.5);
}

TEST_F(PythonJobTest, ExceptionNamesFileAndLine) {
  std::string path = write("raises.py", R"(import math

def check(price):
    if price < 0:
        raise ValueError("negative price %s" % price)
    return math.log(price)

def process(msg):
    return {"lp": check(msg["price"])}
)");
  auto job = load_python_job(path);
  RecordingContext ctx;
  try {
    job->process(msg(R"({"price": -1})"), ctx);
    FAIL() << "no JobError";
  } catch (const JobError& e) {
    EXPECT_EQ(std::string(e.what()), "ValueError: negative price -1 (" + path + ":5)");
  }
  try {
    job->process(msg(R"({"cost": 1})"), ctx);
    FAIL() << "no JobError";
  } catch (const JobError& e) {
    EXPECT_EQ(std::string(e.what()), "KeyError: 'price' (" + path + ":9)");
  }
  try {
    job->process(msg(R"([1, 2])"), ctx);
    FAIL() << "no JobError";
  } catch (const JobError& e) {
    EXPECT_EQ(std::string(e.what()), "payload is not a JSON object");
  }
  job->process(msg(R"({"price": 1})"), ctx);
  EXPECT_EQ(ctx.jsons(), std::vector<std::string>{R"({"lp":0.0})"});
}

TEST_F(PythonJobTest, WrongReturnTypeIsAJobError) {
  auto job = load("wrong.py", R"(
def process(msg):
    return msg["v"]
)");
  RecordingContext ctx;
  auto error_for = [&](const std::string& payload) -> std::string {
    try {
      job->process(msg(payload), ctx);
    } catch (const JobError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error_for(R"({"v": 3})"),
            "process() returned int; expected dict, list of dicts or None");
  EXPECT_EQ(error_for(R"({"v": "s"})"),
            "process() returned str; expected dict, list of dicts or None");
  EXPECT_EQ(error_for(R"({"v": [{}, 1]})"),
            "process() returned a list containing int; expected dict, list of dicts or None");
  EXPECT_TRUE(ctx.emitted.empty());
}

TEST_F(PythonJobTest, LoadFailuresNameFileAndLine) {
  std::string err =
      load_error("syntax.py", "import pairflow\n\ndef process(msg)\n    return msg\n");
  EXPECT_EQ(err.rfind((dir_ / "syntax.py").string() + ":3: SyntaxError: ", 0), 0u) << err;

  err = load_error("missing.py", "def handle(msg):\n    return msg\n");
  EXPECT_EQ(err, (dir_ / "missing.py").string() + ": no process(msg) function defined");

  err = load_error("notfn.py", "process = 3\n");
  EXPECT_EQ(err, (dir_ / "notfn.py").string() + ": process is a int, not a function");

  err = load_error("sig.py", "x = 1\ndef process(msg, extra):\n    return msg\n");
  EXPECT_EQ(
      err.rfind((dir_ / "sig.py").string() + ":2: process() must take exactly one argument", 0), 0u)
      << err;

  err = load_error("ann.py", "def process(msg) -> float:\n    return 1.0\n");
  EXPECT_EQ(err, (dir_ / "ann.py").string() +
                     ":1: process() is annotated to return float; expected dict, list of dicts "
                     "or None");

  err = load_error("imp.py", "import os\nimport no_such_module_pairflow\ndef process(m): pass\n");
  EXPECT_EQ(err, (dir_ / "imp.py").string() +
                     ":2: ModuleNotFoundError: No module named 'no_such_module_pairflow'");

  err = load_error("boom.py", "def process(m): pass\n\nraise RuntimeError('at import')\n");
  EXPECT_EQ(err, (dir_ / "boom.py").string() + ":3: RuntimeError: at import");

  try {
    load_python_job((dir_ / "absent.py").string());
    ADD_FAILURE();
  } catch (const JobError& e) {
    EXPECT_EQ(std::string(e.what()), (dir_ / "absent.py").string() + ": no such file");
  }

  // Compatible annotations load.
  EXPECT_NO_THROW(load("ok.py",
                       "from typing import Optional\n"
                       "def process(msg: dict) -> Optional[dict]:\n    return msg\n"));
}

TEST_F(PythonJobTest, ImportsModulesNextToTheFile) {
  write("helpers_pairflow_test.py", "def double(x):\n    return 2 * x\n");
  auto job = load("uses_helper.py", R"(
from helpers_pairflow_test import double
def process(msg):
    return {"y": double(msg["x"])}
)");
  RecordingContext ctx;
  job->process(msg(R"({"x": 21})"), ctx);
  EXPECT_EQ(ctx.jsons(), std::vector<std::string>{R"({"y":42})"});
}

constexpr const char* kBatchJob = R"(
import math
import numpy as np

def process(msg):
    return {"sym": msg["sym"], "root": math.sqrt(msg["x"]), "n": msg["n"]}

def process_batch(cols):
    return {
        "sym": cols["sym"],
        "root": [math.sqrt(v) for v in cols["x"]],  # raises on a negative x
        "n": cols["n"],
        "dtypes": [",".join(str(cols[k].dtype) for k in ("sym", "x", "n"))] * len(cols["x"]),
    }
)";

TEST_F(PythonJobTest, ProcessBatchGetsColumns) {
  auto job = load("batch.py", kBatchJob);
  RecordingContext ctx;
  std::vector<Message> batch = {msg(R"({"sym":"A","x":4.0,"n":1})", "A"),
                                msg(R"({"sym":"B","x":9,"n":2})", "B"), msg(R"(not json)", "C"),
                                msg(R"({"sym":"A","x":16.5e0,"n":3})", "A")};
  std::vector<Job::Failure> failed;
  job->process_batch(batch, ctx, failed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].index, 2u);
  EXPECT_NE(failed[0].error.find("not valid JSON"), std::string::npos);
  ASSERT_EQ(ctx.emitted.size(), 3u);
  EXPECT_EQ(ctx.emitted[0].json, R"({"sym":"A","root":2.0,"n":1,"dtypes":"object,float64,int64"})");
  EXPECT_EQ(ctx.emitted[1].json, R"({"sym":"B","root":3.0,"n":2,"dtypes":"object,float64,int64"})");
  EXPECT_EQ(ctx.emitted[2].key, "A");
  EXPECT_EQ(ctx.emitted[1].key, "B");
  EXPECT_TRUE(ctx.logs.empty());
}

TEST_F(PythonJobTest, ProcessBatchFallsBackPerMessageOnABadRow) {
  auto job = load("batch.py", kBatchJob);
  RecordingContext ctx;
  std::vector<Message> batch = {msg(R"({"sym":"A","x":4,"n":1})"),
                                msg(R"({"sym":"B","x":-1,"n":2})"),
                                msg(R"({"sym":"C","x":1,"n":3})")};
  std::vector<Job::Failure> failed;
  job->process_batch(batch, ctx, failed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].index, 1u);
  EXPECT_EQ(failed[0].error,
            "ValueError: math domain error (" + (dir_ / "batch.py").string() + ":6)");
  EXPECT_EQ(ctx.jsons(), (std::vector<std::string>{R"({"sym":"A","root":2.0,"n":1})",
                                                   R"({"sym":"C","root":1.0,"n":3})"}));
  ASSERT_EQ(ctx.logs.size(), 1u);
  EXPECT_EQ(ctx.logs[0].first, LogLevel::kWarning);
}

TEST_F(PythonJobTest, ProcessBatchColumnsWithGapsAndMixes) {
  auto job = load("gaps.py", R"(
def process(msg):
    return msg

def process_batch(cols):
    out = {k: [repr(v) for v in cols[k].tolist()] for k in sorted(cols)}
    out["dtype"] = [",".join(str(cols[k].dtype) for k in sorted(cols))] * len(cols["a"])
    return out
)");
  RecordingContext ctx;
  std::vector<Message> batch = {msg(R"({"a":1,"b":"x","c":true,"d":[1]})"),
                                msg(R"({"a":2.5,"c":false,"d":null,"e":1})")};
  std::vector<Job::Failure> failed;
  job->process_batch(batch, ctx, failed);
  EXPECT_TRUE(failed.empty());
  EXPECT_EQ(
      ctx.jsons(),
      (std::vector<std::string>{
          R"({"a":"1.0","b":"'x'","c":"True","d":"[1]","e":"nan","dtype":"float64,object,bool,object,float64"})",
          R"({"a":"2.5","b":"None","c":"False","d":"None","e":"1.0","dtype":"float64,object,bool,object,float64"})"}));
}

// A message in the binary codec, from its JSON form.
Message binary_msg(Schema schema, const std::string& json, std::string key = "AAA") {
  auto bytes = json_to_binary(schema, json);
  EXPECT_TRUE(bytes.is_ok()) << json << ": " << bytes.status().message();
  return msg(bytes.is_ok() ? *bytes : "", std::move(key));
}

constexpr const char* kDescribeColumns = R"(
import numpy as np

def process(msg):
    return msg

def process_batch(cols):
    out = {k: [repr(v) for v in cols[k].tolist()] for k in sorted(cols)}
    out["dtype"] = [",".join(str(cols[k].dtype) for k in sorted(cols))] * len(cols["ts"])
    return out
)";

TEST_F(PythonJobTest, BinaryTicksBecomeTypedColumnsAndBadRowsAreReported) {
  auto job = load("describe.py", kDescribeColumns);
  EXPECT_TRUE(job->reads_binary());
  RecordingContext ctx;
  Message truncated =
      binary_msg(Schema::kTick, R"({"ts":3,"symbol":"CC","price":1,"size":1})", "CC");
  truncated.payload.pop_back();
  std::vector<Message> batch = {
      binary_msg(Schema::kTick,
                 R"({"ts":1,"symbol":"AAA","price":10.5,"size":100,"bid":10.4,"ask":10.6})"),
      binary_msg(Schema::kTick, R"({"ts":2,"symbol":"B","price":20,"size":5})", "B"), truncated,
      msg(std::string("PF\x07\x01", 4), "X"),
      binary_msg(Schema::kTick, R"({"ts":4,"symbol":"AAA","price":11,"size":1})")};
  std::vector<Job::Failure> failed;
  job->process_batch(batch, ctx, failed);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0].index, 2u);
  EXPECT_EQ(failed[0].error, "binary message is truncated");
  EXPECT_EQ(failed[1].index, 3u);
  EXPECT_EQ(failed[1].error, "unsupported binary version 7");
  // Columns take the schema's types: int64 time, float64 numbers (NaN: no quote), str symbols.
  EXPECT_EQ(
      ctx.jsons(),
      (std::vector<std::string>{
          R"({"ask":"10.6","bid":"10.4","price":"10.5","size":"100.0","symbol":"'AAA'","ts":"1","dtype":"float64,float64,float64,float64,object,int64"})",
          R"({"ask":"nan","bid":"nan","price":"20.0","size":"5.0","symbol":"'B'","ts":"2","dtype":"float64,float64,float64,float64,object,int64"})",
          R"({"ask":"nan","bid":"nan","price":"11.0","size":"1.0","symbol":"'AAA'","ts":"4","dtype":"float64,float64,float64,float64,object,int64"})"}));
  EXPECT_EQ(ctx.emitted[0].key, "AAA");
  EXPECT_EQ(ctx.emitted[1].key, "B");
  EXPECT_EQ(ctx.emitted[2].key, "AAA");
  EXPECT_TRUE(ctx.logs.empty());
}

TEST_F(PythonJobTest, BinaryOrdersKeepEnumsAndAbsentPairIds) {
  auto job = load("describe.py", kDescribeColumns);
  RecordingContext ctx;
  std::vector<Message> batch = {
      binary_msg(Schema::kOrder,
                 R"({"client_order_id":7,"ts":1,"symbol":"A","side":"buy","qty":10,)"
                 R"("type":"limit","limit":9.5,"pair":3})"),
      binary_msg(Schema::kOrder, R"({"client_order_id":8,"ts":2,"symbol":"B","side":"sell",)"
                                 R"("qty":5,"type":"market"})")};
  std::vector<Job::Failure> failed;
  job->process_batch(batch, ctx, failed);
  EXPECT_TRUE(failed.empty());
  ASSERT_EQ(ctx.emitted.size(), 2u);
  // As on the JSON path, a number column with a missing value is float64 with NaN.
  EXPECT_EQ(
      ctx.emitted[1].json,
      R"({"client_order_id":"8","limit":"nan","pair":"nan","qty":"5.0","side":"'sell'","symbol":"'B'","ts":"2","type":"'market'","dtype":"int64,float64,float64,float64,object,object,int64,object"})");
  EXPECT_NE(ctx.emitted[0].json.find(R"("pair":"3.0")"), std::string::npos);
}

TEST_F(PythonJobTest, BinaryRecordsAndMixedBatchesMatchTheJsonPath) {
  // Records with varying shapes, a mixed record/tick/JSON batch: the same columns as JSON gives.
  const std::vector<std::string> rows = {R"({"ts":1,"sym":"A","z":0.5,"ok":true})",
                                         R"({"ts":2,"sym":"B","z":null,"ok":false,"extra":3})",
                                         R"({"ts":3,"z":-1.25,"ok":true})"};
  std::vector<Message> json_batch, record_batch;
  for (const auto& r : rows) {
    json_batch.push_back(msg(r));
    record_batch.push_back(binary_msg(Schema::kRecord, r));
  }
  std::vector<Message> mixed = record_batch;
  mixed[1] = json_batch[1];
  std::vector<Message> schemas = record_batch;
  schemas[2] = binary_msg(Schema::kTick, R"({"ts":3,"symbol":"C","price":1,"size":1})");
  std::vector<std::vector<std::string>> outputs;
  for (const auto* batch : {&json_batch, &record_batch, &mixed, &schemas}) {
    auto job = load("describe.py", kDescribeColumns);
    RecordingContext ctx;
    std::vector<Job::Failure> failed;
    job->process_batch(*batch, ctx, failed);
    EXPECT_TRUE(failed.empty()) << failed[0].error;
    EXPECT_TRUE(ctx.logs.empty());
    outputs.push_back(ctx.jsons());
  }
  ASSERT_EQ(outputs[0].size(), 3u);
  EXPECT_EQ(
      outputs[0][1],
      R"({"extra":"3.0","ok":"False","sym":"'B'","ts":"2","z":"nan","dtype":"float64,bool,object,int64,float64"})");
  EXPECT_EQ(outputs[1], outputs[0]);
  EXPECT_EQ(outputs[2], outputs[0]);
  ASSERT_EQ(outputs[3].size(), 3u);  // tick and records: one column set through JSON
  EXPECT_NE(outputs[3][2].find(R"("symbol":")"), std::string::npos);
}

constexpr const char* kReturnColumns = R"(
import numpy as np

def process(msg):
    return msg

def process_batch(cols):
    if "price" in cols:
        cols["notional"] = cols["price"] * cols["size"]
    return cols
)";

TEST_F(PythonJobTest, BinaryOutputsAreRecordsOrTheTopicSchema) {
  std::vector<Message> ticks;
  for (int i = 0; i < 5; ++i) {
    ticks.push_back(binary_msg(
        Schema::kTick,
        "{\"ts\":" + std::to_string(1704205800000000000LL + i) + ",\"symbol\":\"S" +
            std::to_string(i % 2) + "\",\"price\":" + std::to_string(100 + i) +
            ".25,\"size\":" + std::to_string(10 * i) + (i % 2 ? ",\"bid\":1,\"ask\":2}" : "}"),
        "S" + std::to_string(i % 2)));
  }
  {  // a features topic: binary records, the same content as the JSON output
    auto job = load("cols.py", kReturnColumns);
    RecordingContext json_ctx, binary_ctx;
    binary_ctx.binary = true;
    std::vector<Job::Failure> failed;
    job->process_batch(ticks, json_ctx, failed);
    job->process_batch(ticks, binary_ctx, failed);
    EXPECT_TRUE(failed.empty());
    ASSERT_EQ(binary_ctx.emitted.size(), 5u);
    for (std::size_t i = 0; i < 5; ++i) {
      const std::string& bytes = binary_ctx.emitted[i].json;
      ASSERT_TRUE(is_binary_message(bytes));
      EXPECT_EQ(*binary_schema(bytes), Schema::kRecord);
      // What the transport makes of the JSON output (a NaN there is a null, here a NaN double;
      // both read back as null).
      EXPECT_EQ(*binary_to_json(bytes),
                *binary_to_json(*json_to_binary(Schema::kRecord, json_ctx.emitted[i].json)));
      EXPECT_EQ(binary_ctx.emitted[i].key, ticks[i].key);
    }
  }
  {  // the ticks topic: the columns that fit the tick schema come back byte for byte
    auto job = load("same.py",
                    "def process(msg):\n    return msg\n\n"
                    "def process_batch(cols):\n    return cols\n");
    RecordingContext ctx;
    ctx.binary = true;
    ctx.output = "ticks";
    std::vector<Job::Failure> failed;
    job->process_batch(ticks, ctx, failed);
    ASSERT_EQ(ctx.emitted.size(), 5u);
    for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(ctx.emitted[i].json, ticks[i].payload) << i;
  }
  {  // columns that do not fit the topic's schema go out as JSON for the transport to judge
    auto job = load("cols.py", kReturnColumns);
    RecordingContext ctx;
    ctx.binary = true;
    ctx.output = "ticks";
    std::vector<Job::Failure> failed;
    job->process_batch(ticks, ctx, failed);
    ASSERT_EQ(ctx.emitted.size(), 5u);
    EXPECT_EQ(ctx.emitted[0].json.front(), '{');
  }
}

TEST_F(PythonJobTest, BinaryRecordsFromListColumnsKeepElementTypes) {
  auto job = load("lists.py", R"(
def process(msg):
    return msg

def process_batch(cols):
    return {"i": [1, 2], "f": [0.5, 1.0], "b": [True, False], "mixed": [1, "x"], "s": ["a", "b"],
            "none": [None, 2.5], "big": [1, 2**70]}
)");
  const std::vector<Message> two = {binary_msg(Schema::kRecord, R"({"ts":1})"),
                                    binary_msg(Schema::kRecord, R"({"ts":2})")};
  RecordingContext ctx;
  ctx.binary = true;
  std::vector<Job::Failure> failed;
  job->process_batch(two, ctx, failed);
  EXPECT_TRUE(failed.empty());
  ASSERT_EQ(ctx.emitted.size(), 2u);
  // An int beyond 64 bits has no record type: that batch goes out as JSON, exact.
  EXPECT_EQ(
      ctx.emitted[1].json,
      R"({"i":2,"f":1.0,"b":false,"mixed":"x","s":"b","none":2.5,"big":1180591620717411303424})");
  job = load("lists2.py", R"(
def process(msg):
    return msg

def process_batch(cols):
    return {"i": [1, 2], "f": [0.5, 1.0], "b": [True, False], "mixed": [1, "x"], "s": ["a", "b"],
            "none": [None, 2.5]}
)");
  RecordingContext binary_ctx;
  binary_ctx.binary = true;
  job->process_batch(two, binary_ctx, failed);
  ASSERT_EQ(binary_ctx.emitted.size(), 2u);
  EXPECT_EQ(*binary_to_json(binary_ctx.emitted[0].json),
            R"({"i":1,"f":0.5,"b":true,"mixed":1,"s":"a","none":null})");
  EXPECT_EQ(*binary_to_json(binary_ctx.emitted[1].json),
            R"({"i":2,"f":1,"b":false,"mixed":"x","s":"b","none":2.5})");
}

TEST_F(PythonJobTest, CorruptBinaryPayloadsAreReportedNeverFatal) {
  // Every truncation and many byte flips of a tick, an order and a record: each row is either
  // processed or reported, never both, never neither.
  auto job = load("describe.py", kDescribeColumns);
  const std::vector<std::string> good = {
      *json_to_binary(Schema::kTick, R"({"ts":1,"symbol":"AB","price":1,"size":2,"bid":1})"),
      *json_to_binary(Schema::kOrder, R"({"client_order_id":1,"ts":1,"symbol":"A","side":"buy",)"
                                      R"("qty":1,"type":"market"})"),
      *json_to_binary(Schema::kRecord, R"({"ts":1,"s":"x","z":0.5,"b":true,"n":null})")};
  for (const std::string& original : good) {
    std::vector<Message> batch;
    for (std::size_t cut = 0; cut < original.size(); ++cut)
      batch.push_back(msg(original.substr(0, cut)));
    for (std::size_t at = 0; at < original.size(); ++at) {
      for (unsigned char bits : {0x01, 0x80, 0xff}) {
        std::string flipped = original;
        flipped[at] = static_cast<char>(flipped[at] ^ bits);
        batch.push_back(msg(flipped));
      }
    }
    batch.push_back(msg(original));
    RecordingContext ctx;
    std::vector<Job::Failure> failed;
    job->process_batch(batch, ctx, failed);
    EXPECT_EQ(ctx.emitted.size() + failed.size(), batch.size());
    ASSERT_FALSE(ctx.emitted.empty());
    EXPECT_EQ(ctx.emitted.back().key, "AAA");
    EXPECT_EQ(failed.front().error, "payload is not valid JSON: Empty: no JSON found");  // cut 0
    for (const auto& f : failed) {
      if (f.index == 5) {
        EXPECT_EQ(f.error, "binary message is truncated");  // header + 1 byte
      }
    }
  }
}

TEST_F(PythonJobTest, BinaryPayloadsReachProcessAsDicts) {
  auto job = load("per_message.py", R"(
def process(msg):
    return {"symbol": msg["symbol"], "mid": (msg["bid"] + msg["ask"]) / 2}
)");
  RecordingContext ctx;
  job->process(
      binary_msg(Schema::kTick, R"({"ts":1,"symbol":"A","price":10,"size":1,"bid":9,"ask":11})"),
      ctx);
  EXPECT_EQ(ctx.jsons(), (std::vector<std::string>{R"({"symbol":"A","mid":10.0})"}));
  std::string bad = *json_to_binary(Schema::kTick, R"({"ts":1,"symbol":"A","price":1,"size":1})");
  EXPECT_THROW(
      {
        try {
          job->process(msg(bad + "x"), ctx);
        } catch (const JobError& e) {
          EXPECT_STREQ(e.what(), "binary message has trailing bytes");
          throw;
        }
      },
      JobError);
}

TEST_F(PythonJobTest, JobsInOneProcessStayIsolated) {
  const char* source = R"(
import pairflow
seen = 0
def process(msg):
    global seen
    seen += 1
    pairflow.state["last"] = msg["v"]
    return {"seen": seen}
)";
  auto a = load("iso_a.py", source);
  auto b = load_python_job((dir_ / "iso_a.py").string());  // the same file, a second instance
  auto c = load("iso_c.py", "def process(msg):\n    return {'c': msg['v']}\n");
  RecordingContext ctx;
  a->process(msg(R"({"v": 1})"), ctx);
  a->process(msg(R"({"v": 2})"), ctx);
  b->process(msg(R"({"v": 3})"), ctx);
  c->process(msg(R"({"v": 4})"), ctx);
  EXPECT_EQ(ctx.jsons(), (std::vector<std::string>{R"({"seen":1})", R"({"seen":2})",
                                                   R"({"seen":1})", R"({"c":4})"}));
  EXPECT_EQ(a->snapshot_state(), R"({"last":2})");
  EXPECT_EQ(b->snapshot_state(), R"({"last":3})");
  EXPECT_EQ(c->snapshot_state(), "{}");
}

TEST_F(PythonJobTest, RunsOnOtherThreads) {
  auto job = load("thread.py", "def process(msg):\n    return msg\n");
  std::vector<std::thread> threads;
  std::vector<RecordingContext> ctxs(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      // Each thread drives its own job instance, as the runtime's workers would.
      auto own = load_python_job((dir_ / "thread.py").string());
      for (int i = 0; i < 200; ++i)
        own->process(msg(R"({"i":)" + std::to_string(i) + "}"), ctxs[t]);
    });
  }
  for (auto& t : threads) t.join();
  for (auto& c : ctxs) EXPECT_EQ(c.emitted.size(), 200u);
  RecordingContext ctx;
  job->process(msg(R"({"i": 1})"), ctx);
  EXPECT_EQ(ctx.jsons(), std::vector<std::string>{R"({"i":1})"});
}

TEST_F(PythonJobTest, SnapshotOfUnserializableStateFails) {
  auto job = load("badstate.py", R"(
import pairflow
def process(msg):
    pairflow.state["s"] = {1, 2}
)");
  RecordingContext ctx;
  job->process(msg("{}"), ctx);
  EXPECT_THROW(job->snapshot_state(), JobError);
}

std::string source_dir() {
  const char* env = std::getenv("PAIRFLOW_SOURCE_DIR");
  return env ? env : PAIRFLOW_SOURCE_DIR_DEFAULT;
}

TEST(PythonJobExamples, PassthroughBothPaths) {
  auto job = load_python_job(source_dir() + "/examples/jobs/passthrough.py");
  RecordingContext ctx;
  job->setup(ctx);
  job->process(msg(R"({"x":1})"), ctx);
  std::vector<Message> batch = {msg(R"({"x":2})"), msg(R"({"x":3})")};
  std::vector<Job::Failure> failed;
  job->process_batch(batch, ctx, failed);
  EXPECT_TRUE(failed.empty());
  EXPECT_EQ(ctx.jsons(),
            (std::vector<std::string>{R"({"x":1,"via":"test_job"})", R"({"x":2,"via":"test_job"})",
                                      R"({"x":3,"via":"test_job"})"}));
}

TEST(PythonJobExamples, SpreadZscoreSurvivesARestart) {
  const std::string path = source_dir() + "/examples/jobs/spread_zscore.py";
  auto bar = [](const char* sym, double close, int ts) {
    return msg("{\"ts\":" + std::to_string(ts) + ",\"symbol\":\"" + sym +
                   "\",\"close\":" + std::to_string(close) + "}",
               sym);
  };
  RecordingContext ctx;
  ctx.params = R"({"a":"A","b":"B","hedge_ratio":1.0,"halflife":5,"warmup":3,"threshold":1.5})";
  std::string snapshot;
  {
    auto job = load_python_job(path);
    job->setup(ctx);
    for (int i = 0; i < 10; ++i) {
      job->process(bar("A", 100 + (i % 3), i), ctx);
      job->process(bar("B", 50 + (i % 2), i), ctx);
    }
    snapshot = job->snapshot_state();
  }
  ASSERT_FALSE(ctx.emitted.empty());
  EXPECT_NE(ctx.emitted.back().json.find("\"pair\":\"A/B\""), std::string::npos);
  EXPECT_DOUBLE_EQ(ctx.metrics["bars"], 19.0);

  RecordingContext after;
  after.params = ctx.params;
  auto job = load_python_job(path);
  job->setup(after);
  job->restore_state(snapshot);
  job->recover(after);
  ASSERT_EQ(after.logs.size(), 1u);
  EXPECT_EQ(after.logs[0].second.rfind("A/B: resumed after 19 bars", 0), 0u)
      << after.logs[0].second;
  job->process(bar("A", 101, 11), after);
  EXPECT_EQ(after.emitted.size(), 1u);
  EXPECT_THROW(job->process(bar("A", -1, 12), after), JobError);
}

}  // namespace
}  // namespace pairflow::embed
