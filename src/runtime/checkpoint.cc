#include "runtime/checkpoint.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <charconv>

#include "base/status.h"

namespace pairflow::runtime {
namespace {

void exec(sqlite3* db, const std::string& path, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw UserError(fmt::format("{}: checkpoint store: {}", path, message));
  }
}

}  // namespace

SqliteCheckpointStore::SqliteCheckpointStore(const std::string& path) : path_(path) {
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw UserError(fmt::format("{}: cannot open checkpoint store: {}", path, message));
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec(db_, path_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    exec(db_, path_,
         "CREATE TABLE IF NOT EXISTS checkpoints (key TEXT PRIMARY KEY, positions TEXT NOT NULL, "
         "state TEXT NOT NULL, sequence INTEGER NOT NULL, saved_at TEXT NOT NULL)");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteCheckpointStore::~SqliteCheckpointStore() {
  if (db_) sqlite3_close(db_);
}

std::optional<Checkpoint> SqliteCheckpointStore::load(const std::string& key) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT positions, state, sequence FROM checkpoints WHERE key = ?",
                         -1, &stmt, nullptr) != SQLITE_OK) {
    throw UserError(fmt::format("{}: checkpoint store: {}", path_, sqlite3_errmsg(db_)));
  }
  sqlite3_bind_text(stmt, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  std::optional<Checkpoint> result;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    Checkpoint c;
    c.positions = positions_from_json(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    c.state = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
    c.sequence = static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 2));
    result = std::move(c);
  }
  sqlite3_finalize(stmt);
  return result;
}

void SqliteCheckpointStore::save(const std::string& key, const Checkpoint& checkpoint) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR REPLACE INTO checkpoints (key, positions, state, sequence, "
                         "saved_at) VALUES (?, ?, ?, ?, datetime('now'))",
                         -1, &stmt, nullptr) != SQLITE_OK) {
    throw UserError(fmt::format("{}: checkpoint store: {}", path_, sqlite3_errmsg(db_)));
  }
  const std::string positions = positions_to_json(checkpoint.positions);
  sqlite3_bind_text(stmt, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(stmt, 2, positions.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(stmt, 3, checkpoint.state.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(stmt, 4, static_cast<sqlite3_int64>(checkpoint.sequence));
  const int rc = sqlite3_step(stmt);  // one statement = one atomic transaction
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) {
    throw UserError(fmt::format("{}: saving checkpoint failed: {}", path_, sqlite3_errmsg(db_)));
  }
}

std::string positions_to_json(const Positions& positions) {
  std::string out = "{";
  for (const auto& [partition, offset] : positions) {
    out += fmt::format("{}\"{}\":{}", out.size() > 1 ? "," : "", partition, offset);
  }
  return out + "}";
}

Positions positions_from_json(const std::string& json) {
  // The store writes this text itself: {"P":O,...}; parse it strictly.
  Positions positions;
  std::size_t i = 0;
  auto fail = [&] { throw UserError(fmt::format("checkpoint positions are corrupt: '{}'", json)); };
  auto skip = [&](char c) {
    if (i >= json.size() || json[i] != c) fail();
    ++i;
  };
  skip('{');
  while (i < json.size() && json[i] != '}') {
    if (!positions.empty()) skip(',');
    skip('"');
    std::int32_t partition;
    auto p = std::from_chars(json.data() + i, json.data() + json.size(), partition);
    if (p.ec != std::errc()) fail();
    i = p.ptr - json.data();
    skip('"');
    skip(':');
    std::int64_t offset;
    auto o = std::from_chars(json.data() + i, json.data() + json.size(), offset);
    if (o.ec != std::errc()) fail();
    i = o.ptr - json.data();
    positions[partition] = offset;
  }
  skip('}');
  return positions;
}

std::string checkpoint_to_json(const Checkpoint& c) {
  return fmt::format(R"({{"positions":{},"state":{},"sequence":{}}})",
                     positions_to_json(c.positions), c.state.empty() ? "null" : c.state,
                     c.sequence);
}

Checkpoint checkpoint_from_json(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  auto fail = [&] { throw UserError(fmt::format("checkpoint record is corrupt: '{}'", json)); };
  if (parser.parse(json.data(), json.size()).get_object().get(obj)) fail();
  Checkpoint c;
  simdjson::dom::element positions, state;
  std::uint64_t sequence;
  if (obj["positions"].get(positions) || obj["state"].get(state) ||
      obj["sequence"].get_uint64().get(sequence)) {
    fail();
  }
  c.positions = positions_from_json(simdjson::minify(positions));
  c.state = state.is_null() ? "{}" : simdjson::minify(state);
  c.sequence = sequence;
  return c;
}

}  // namespace pairflow::runtime
