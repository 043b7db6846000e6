#include "stream/checkpoint.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <array>
#include <charconv>
#include <cstring>

#include "base/json_writer.h"
#include "base/status.h"

namespace pairflow::stream {
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
    // Checkpoints from before origins were kept gain the column (an empty origin: not checked).
    bool has_origin = false;
    sqlite3_stmt* info = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA table_info(checkpoints)", -1, &info, nullptr) ==
        SQLITE_OK) {
      while (sqlite3_step(info) == SQLITE_ROW) {
        const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(info, 1));
        if (name && std::string_view(name) == "origin") has_origin = true;
      }
    }
    sqlite3_finalize(info);
    if (!has_origin)
      exec(db_, path_, "ALTER TABLE checkpoints ADD COLUMN origin TEXT NOT NULL DEFAULT ''");
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
  if (sqlite3_prepare_v2(db_,
                         "SELECT positions, state, sequence, origin FROM checkpoints WHERE key = ?",
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
    const auto* origin = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    try {
      c.origin = origin_from_json(origin ? origin : "");
    } catch (const UserError& e) {
      sqlite3_finalize(stmt);
      throw UserError(fmt::format("{}: checkpoint '{}': {}", path_, key, e.what()));
    }
    result = std::move(c);
  }
  sqlite3_finalize(stmt);
  return result;
}

void SqliteCheckpointStore::save(const std::string& key, const Checkpoint& checkpoint) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR REPLACE INTO checkpoints (key, positions, state, sequence, "
                         "saved_at, origin) VALUES (?, ?, ?, ?, datetime('now'), ?)",
                         -1, &stmt, nullptr) != SQLITE_OK) {
    throw UserError(fmt::format("{}: checkpoint store: {}", path_, sqlite3_errmsg(db_)));
  }
  const std::string positions = positions_to_json(checkpoint.positions);
  sqlite3_bind_text(stmt, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(stmt, 2, positions.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(stmt, 3, checkpoint.state.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(stmt, 4, static_cast<sqlite3_int64>(checkpoint.sequence));
  const std::string origin = origin_to_json(checkpoint.origin);
  sqlite3_bind_text(stmt, 5, origin.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(stmt);  // one statement = one atomic transaction
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) {
    throw UserError(fmt::format("{}: saving checkpoint failed: {}", path_, sqlite3_errmsg(db_)));
  }
}

void SqliteCheckpointStore::reset(const std::string& key) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "DELETE FROM checkpoints WHERE key = ?", -1, &stmt, nullptr) !=
      SQLITE_OK) {
    throw UserError(fmt::format("{}: checkpoint store: {}", path_, sqlite3_errmsg(db_)));
  }
  sqlite3_bind_text(stmt, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE)
    throw UserError(fmt::format("{}: resetting checkpoint failed: {}", path_, sqlite3_errmsg(db_)));
}

std::uint32_t fingerprint(std::string_view key, std::string_view payload,
                          std::int64_t log_time_ms) {
  static const auto kTable = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFu;
  auto feed = [&](std::string_view bytes) {
    for (char ch : bytes) crc = kTable[(crc ^ static_cast<std::uint8_t>(ch)) & 0xFF] ^ (crc >> 8);
  };
  feed(key);
  feed(std::string_view("\0", 1));  // "ab"+"c" and "a"+"bc" differ
  feed(payload);
  char time[sizeof log_time_ms];
  std::memcpy(time, &log_time_ms, sizeof time);
  feed(std::string_view(time, sizeof time));
  crc ^= 0xFFFFFFFFu;
  return crc == 0 ? 1 : crc;
}

std::vector<OriginMismatch> check_origin(const Checkpoint& checkpoint, Source& source) {
  std::vector<OriginMismatch> out;
  const std::string cluster = source.cluster_id();
  if (cluster.empty()) return out;  // not a log: nothing to compare
  const Origin& saved = checkpoint.origin;
  const bool other_cluster = !saved.cluster.empty() && saved.cluster != cluster;
  for (const auto& [id, next] : checkpoint.positions) {
    const auto at = saved.partitions.find(id);
    const PartitionOrigin* was = at == saved.partitions.end() ? nullptr : &at->second;
    OriginMismatch m;
    m.partition = id;
    const std::optional<LogPartition> now = source.describe_partition(id, false);
    const std::string name =
        now ? fmt::format("{}[{}]", now->topic, now->partition)
            : (was ? fmt::format("{}[{}]", was->topic, was->partition) : fmt::format("#{}", id));
    if (other_cluster) {
      m.what = fmt::format("{}: saved against Kafka cluster '{}', the brokers are cluster '{}'",
                           name, saved.cluster, cluster);
      m.log_replaced = true;
    } else if (!now) {
      m.what = fmt::format("{}: the partition no longer exists", name);
      m.log_replaced = m.partition_gone = true;
    } else if (next > now->log_end) {
      m.what = fmt::format("{}: offset {} is beyond the log end {} (topic recreated or truncated)",
                           name, next, now->log_end);
      m.log_replaced = true;
    } else if (was && was->last_fingerprint != 0 && was->last_offset == next - 1 &&
               was->last_offset >= now->log_start) {
      const auto fp = source.fingerprint_at(id, was->last_offset);
      if (fp && *fp != was->last_fingerprint) {
        m.what = fmt::format(
            "{}: the message at offset {} is not the one the job processed (topic recreated)", name,
            was->last_offset);
        m.log_replaced = true;
      }
    }
    if (m.what.empty() && now && next < now->log_start) {
      m.what =
          fmt::format("{}: offsets {} to {} were deleted (retention) before the job processed them",
                      name, next, now->log_start - 1);
    }
    if (m.what.empty()) continue;
    if (now) {
      m.log_start = now->log_start;
      m.log_end = now->log_end;
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::string origin_to_json(const Origin& origin) {
  if (origin.cluster.empty() && origin.partitions.empty()) return "";
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("cluster", origin.cluster).key("partitions").begin_object();
  for (const auto& [id, p] : origin.partitions) {
    w.key(std::to_string(id)).begin_object().field("topic", p.topic);
    w.field("partition", p.partition).field("log_start", p.log_start);
    w.field("log_end", p.log_end).field("last_offset", p.last_offset);
    w.field("last_fingerprint", p.last_fingerprint).end_object();
  }
  w.end_object().end_object();
  return out;
}

Origin origin_from_json(std::string_view json) {
  Origin origin;
  if (json.empty() || json == "{}" || json == "null") return origin;
  simdjson::dom::parser parser;
  simdjson::dom::object obj, partitions;
  auto fail = [&] { return UserError(fmt::format("checkpoint origin is corrupt: '{}'", json)); };
  std::string_view cluster;
  if (parser.parse(json.data(), json.size()).get_object().get(obj) ||
      obj["cluster"].get_string().get(cluster) || obj["partitions"].get_object().get(partitions)) {
    throw fail();
  }
  origin.cluster = std::string(cluster);
  for (auto [id_text, value] : partitions) {
    std::int32_t id = 0;
    if (std::from_chars(id_text.data(), id_text.data() + id_text.size(), id).ec != std::errc())
      throw fail();
    PartitionOrigin p;
    std::string_view topic;
    std::int64_t partition = 0;
    std::uint64_t fp = 0;
    if (value["topic"].get_string().get(topic) || value["partition"].get_int64().get(partition) ||
        value["log_start"].get_int64().get(p.log_start) ||
        value["log_end"].get_int64().get(p.log_end) ||
        value["last_offset"].get_int64().get(p.last_offset) ||
        value["last_fingerprint"].get_uint64().get(fp)) {
      throw fail();
    }
    p.topic = std::string(topic);
    p.partition = static_cast<std::int32_t>(partition);
    p.last_fingerprint = static_cast<std::uint32_t>(fp);
    origin.partitions[id] = std::move(p);
  }
  return origin;
}

std::string positions_to_json(const Positions& positions) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  for (const auto& [partition, offset] : positions) w.field(std::to_string(partition), offset);
  w.end_object();
  return out;
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
  const std::string origin = origin_to_json(c.origin);
  std::string out;
  JsonWriter w(out);
  w.begin_object().raw_field("positions", positions_to_json(c.positions));
  w.raw_field("state", c.state.empty() ? "null" : c.state).field("sequence", c.sequence);
  w.raw_field("origin", origin.empty() ? "null" : origin).end_object();
  return out;
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
  simdjson::dom::element origin;
  if (!obj["origin"].get(origin) && !origin.is_null())
    c.origin = origin_from_json(simdjson::minify(origin));
  return c;
}

}  // namespace pairflow::stream
