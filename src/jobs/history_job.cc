// The built-in `history` job (see jobs/builtin_jobs.h): records its input topics into a SQLite
// history file (history/store.h). Rows are committed at every checkpoint before the input
// position is, so a crash loses nothing that was acknowledged upstream; the writer's identity
// state rides in the checkpoint, so a replay from it overwrites rows instead of doubling them.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "history/store.h"
#include "jobs/factories.h"
#include "jobs/params.h"
#include "stream/job.h"

namespace pairflow::jobs {
namespace {

class HistoryJob : public stream::Job {
 public:
  void setup(stream::JobContext& ctx) override {
    Params params("history", ctx.params_json());
    const std::string db = params.string("db", "");
    if (db.empty()) params.fail("db", "the history file to write, e.g. \"history.db\"");
    history::WriterOptions options;
    options.retention = params.duration("retention", 0);
    options.batch_rows =
        static_cast<std::size_t>(params.integer("batch_rows", 65536, 1, 10'000'000));
    options.max_string = static_cast<std::size_t>(params.integer("max_string", 4096, 16, 1 << 20));
    options.full_sync = params.boolean("full_sync", true);
    options.background_commit = params.boolean("background_commit", true);
    try {
      writer_ = std::make_unique<history::HistoryWriter>(db, options);
    } catch (const UserError& e) {
      throw stream::JobError(fmt::format("history: {}", e.what()));
    }
    const auto topics = params.strings("topics");
    if (!topics.empty()) writer_->restrict_topics(topics);
  }
  void process(const stream::Message& m, stream::JobContext& ctx) override {
    Status s = writer_->append(m.topic, m.key, m.payload, m.ts);
    if (!s) {
      const std::string& why = s.message();
      ctx.metric(fmt::format("rejected.{}", why.substr(0, why.find(':'))), 1);
      throw stream::JobError(why);
    }
  }
  void sync(stream::JobContext& ctx) override {
    try {
      writer_->commit();
    } catch (const UserError& e) {
      throw stream::JobError(e.what());
    }
    ctx.gauge("rows", static_cast<double>(writer_->rows()));
    ctx.gauge("commits", static_cast<double>(writer_->commits()));
  }
  void finish(stream::JobContext& ctx) override { sync(ctx); }
  std::string snapshot_state() override { return writer_->snapshot(); }
  void restore_state(std::string_view json) override {
    try {
      writer_->restore(json);
    } catch (const UserError& e) {
      throw stream::JobError(e.what());
    }
  }

 private:
  std::unique_ptr<history::HistoryWriter> writer_;
};

}  // namespace

std::unique_ptr<stream::Job> make_history_job() { return std::make_unique<HistoryJob>(); }

}  // namespace pairflow::jobs
