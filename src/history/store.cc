#include "history/store.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "base/crash_point.h"
#include "base/json_writer.h"
#include "history/block.h"

namespace pairflow::history {
namespace {

constexpr Timestamp kNoTs = std::numeric_limits<Timestamp>::min();
constexpr double kNaNValue = std::numeric_limits<double>::quiet_NaN();

// Internal tables; data tables never start with "_pf_" (table_for_topic prefixes a leading '_').
// The layout version, kept in SQLite's user_version: a file of another layout is refused by name
// instead of failing on a missing column.
constexpr int kFormat = 2;

int file_format(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  int version = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return version;
}

std::string other_format(const std::string& path, int version) {
  return fmt::format(
      "{}: history file of format {}; this pairflow reads format {} (record it again)", path,
      version, kFormat);
}

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS _pf_series (id INTEGER PRIMARY KEY, topic TEXT NOT NULL, "
    "key TEXT NOT NULL, tbl TEXT NOT NULL, UNIQUE (topic, key));"
    "CREATE TABLE IF NOT EXISTS _pf_columns (tbl TEXT NOT NULL, name TEXT NOT NULL, "
    "kind TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (tbl, name));"
    "CREATE TABLE IF NOT EXISTS _pf_tables (tbl TEXT PRIMARY KEY, next_arrival INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS _pf_symbols (position INTEGER PRIMARY KEY, name TEXT NOT NULL);";

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<ColumnKind> parse_kind(std::string_view s) {
  if (s == "int") return ColumnKind::kInt;
  if (s == "real") return ColumnKind::kReal;
  if (s == "text") return ColumnKind::kText;
  if (s == "bool") return ColumnKind::kBool;
  if (s == "json") return ColumnKind::kJson;
  return std::nullopt;
}

// Fields a known message type cannot do without (a finite number each).
std::vector<std::string> required_fields(std::string_view table) {
  if (table == "ticks") return {"price", "size"};
  if (table == "bars") return {"open", "high", "low", "close", "volume"};
  if (table == "signals") return {"z"};
  if (table == "positions") return {"qty"};
  if (table == "pnl") return {"equity"};
  if (table == "pair_pnl") return {"net_pnl"};
  return {};
}

[[noreturn]] void fail(sqlite3* db, const std::string& path, std::string_view what) {
  throw UserError(fmt::format("{}: history: {}: {}", path, what, db ? sqlite3_errmsg(db) : "?"));
}

sqlite3* open_db(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw UserError(fmt::format("{}: cannot open history file: {}", path, message));
  }
  sqlite3_busy_timeout(db, 10000);
  return db;
}

void run(sqlite3* db, const std::string& path, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw UserError(fmt::format("{}: history: {}", path, message));
  }
}

sqlite3_stmt* prepare(sqlite3* db, const std::string& path, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
      SQLITE_OK)
    fail(db, path, "prepare " + sql.substr(0, 60));
  return stmt;
}

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

}  // namespace

std::string table_for_topic(std::string_view topic) {
  auto family = [&](std::string_view base) {
    return topic == base || (topic.size() > base.size() && topic.substr(0, base.size()) == base &&
                             topic[base.size()] == '.');
  };
  if (topic == "ticks") return "ticks";
  if (family("bars")) return "bars";
  if (family("features")) return "features";
  if (topic == "pairs.signals") return "signals";
  if (topic == "pairs.control") return "pair_control";
  if (topic == "orders") return "orders";
  if (topic == "executions") return "executions";
  if (topic == "positions") return "positions";
  if (topic == "pnl") return "pnl";
  if (topic == "pnl.pairs") return "pair_pnl";
  if (topic == "control") return "control";
  if (topic == "control.status") return "control_status";
  if (topic == "control.audit") return "audit";
  if (topic.substr(0, 4) == "dlq.") return "dead_letters";
  std::string name(topic);
  for (char& c : name)
    if (c == '.' || c == '-') c = '_';
  if (name.empty() || name[0] == '_' || std::isdigit(static_cast<unsigned char>(name[0])))
    name = "t" + name;
  return name;
}

const char* reject_kind_name(RejectKind kind) {
  switch (kind) {
    case RejectKind::kMalformed:
      return "malformed";
    case RejectKind::kNoEventTime:
      return "no_event_time";
    case RejectKind::kBadNumber:
      return "bad_number";
    case RejectKind::kStringTooLong:
      return "string_too_long";
    case RejectKind::kTypeConflict:
      return "type_conflict";
    case RejectKind::kBadFieldName:
      return "bad_field_name";
    case RejectKind::kTooManyColumns:
      return "too_many_columns";
    case RejectKind::kUnknownTopic:
      return "unknown_topic";
    case RejectKind::kCount:
      break;
  }
  return "?";
}

const char* column_kind_name(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kInt:
      return "int";
    case ColumnKind::kReal:
      return "real";
    case ColumnKind::kText:
      return "text";
    case ColumnKind::kBool:
      return "bool";
    case ColumnKind::kJson:
      return "json";
  }
  return "?";
}

// --- writer ----------------------------------------------------------------------------------

using detail::Block;
using detail::Cell;

namespace {

// Writes `b` (encoded into `scratch`) as one block of series `id` through `put` (an INSERT OR
// REPLACE of the seven block columns, put_block_sql()).
void write_block(sqlite3* db, const std::string& path, sqlite3_stmt* put, std::int64_t id,
                 const Block& b, std::string& scratch) {
  detail::encode(b, scratch);
  sqlite3_reset(put);
  sqlite3_bind_int64(put, 1, id);
  sqlite3_bind_int64(put, 2, b.ts.front());
  sqlite3_bind_int64(put, 3, b.seq.front());
  sqlite3_bind_int64(put, 4, b.ts.back());
  sqlite3_bind_int64(put, 5, b.seq.back());
  sqlite3_bind_int64(put, 6, static_cast<std::int64_t>(b.rows()));
  sqlite3_bind_blob(put, 7, scratch.data(), static_cast<int>(scratch.size()), SQLITE_STATIC);
  if (sqlite3_step(put) != SQLITE_DONE) fail(db, path, "write a block");
  sqlite3_reset(put);
}

std::string put_block_sql(const std::string& quoted_table) {
  return fmt::format(
      "INSERT OR REPLACE INTO {} (_pf_series, ts_first, seq_first, ts_last, seq_last, rows, data) "
      "VALUES (?,?,?,?,?,?,?)",
      quoted_table);
}

// Deletes the rows of series `id` older than `before`: whole blocks, and the older rows of a block
// across the cut (rewritten with its younger rows). Returns the rows deleted. Runs in the caller's
// transaction; retention (the writer) and `pairflow history prune` (the reader) share it.
std::uint64_t delete_before(sqlite3* db, const std::string& path, const std::string& quoted_table,
                            std::int64_t id, Timestamp before, std::string& scratch) {
  std::uint64_t deleted = 0;
  {
    Stmt count{prepare(db, path,
                       fmt::format("SELECT coalesce(sum(rows), 0) FROM {} WHERE _pf_series = ? "
                                   "AND ts_last < ?",
                                   quoted_table))};
    sqlite3_bind_int64(count.s, 1, id);
    sqlite3_bind_int64(count.s, 2, before);
    if (sqlite3_step(count.s) == SQLITE_ROW)
      deleted += static_cast<std::uint64_t>(sqlite3_column_int64(count.s, 0));
    Stmt del{
        prepare(db, path,
                fmt::format("DELETE FROM {} WHERE _pf_series = ? AND ts_last < ?", quoted_table))};
    sqlite3_bind_int64(del.s, 1, id);
    sqlite3_bind_int64(del.s, 2, before);
    if (sqlite3_step(del.s) != SQLITE_DONE) fail(db, path, "delete old rows");
  }
  std::vector<std::tuple<Timestamp, std::int64_t, Block>> keep;
  {
    Stmt s{prepare(db, path,
                   fmt::format("SELECT ts_first, seq_first, data FROM {} WHERE _pf_series = ? "
                               "AND ts_first < ? AND ts_last >= ?",
                               quoted_table))};
    sqlite3_bind_int64(s.s, 1, id);
    sqlite3_bind_int64(s.s, 2, before);
    sqlite3_bind_int64(s.s, 3, before);
    while (sqlite3_step(s.s) == SQLITE_ROW) {
      Block b, young;
      const auto* data = static_cast<const char*>(sqlite3_column_blob(s.s, 2));
      if (!detail::decode(std::string_view(data, sqlite3_column_bytes(s.s, 2)), b))
        fail(db, path, "a corrupt block in " + quoted_table);
      for (std::size_t r = 0; r < b.rows(); ++r) {
        if (b.ts[r] >= before)
          young.append_row_of(b, r);
        else
          ++deleted;
      }
      keep.emplace_back(sqlite3_column_int64(s.s, 0), sqlite3_column_int64(s.s, 1),
                        std::move(young));
    }
  }
  if (keep.empty()) return deleted;
  Stmt drop{prepare(db, path,
                    fmt::format("DELETE FROM {} WHERE _pf_series = ? AND ts_first = ? AND "
                                "seq_first = ?",
                                quoted_table))};
  Stmt put{prepare(db, path, put_block_sql(quoted_table))};
  for (auto& [first, first_seq, young] : keep) {
    sqlite3_reset(drop.s);
    sqlite3_bind_int64(drop.s, 1, id);
    sqlite3_bind_int64(drop.s, 2, first);
    sqlite3_bind_int64(drop.s, 3, first_seq);
    if (sqlite3_step(drop.s) != SQLITE_DONE) fail(db, path, "delete old rows");
    if (young.rows() > 0) write_block(db, path, put.s, id, young, scratch);
  }
  return deleted;
}

}  // namespace

struct HistoryWriter::Table {
  std::string name, quoted;
  std::vector<std::string> columns;  // fields other than ts, in the order they first appeared
  std::vector<ColumnKind> kinds;
  std::unordered_map<std::string, int> index;  // lower-case name -> column
  std::vector<std::string> required;
  std::vector<int> required_columns;  // -1 until the column exists
  // What the field at each position of the last message was: messages of a type repeat their
  // fields in the same order, so a field is usually recognised with one comparison.
  struct FieldSlot {
    std::string name;
    bool is_ts = false;
    std::uint8_t key_role = 0;  // 1 symbol, 2 pair
    int column = -2;            // -2: not a known column
  };
  std::vector<FieldSlot> field_cache;
  void remember_field(std::size_t at, std::string_view field, bool is_ts, std::uint8_t key_role,
                      int column) {
    if (field_cache.size() <= at) field_cache.resize(at + 1);
    FieldSlot& f = field_cache[at];
    f.name.assign(field);
    f.is_ts = is_ts;
    f.key_role = key_role;
    f.column = column;
  }
  sqlite3_stmt* put_block = nullptr;  // INSERT OR REPLACE a block
  sqlite3_stmt* get_block = nullptr;  // a block by its key
  sqlite3_stmt* tail = nullptr;       // a series' last block
  sqlite3_stmt* covering = nullptr;   // the blocks of a series that may hold an instant
  std::int64_t next_arrival = 0;
  Timestamp newest = kNoTs, pruned_before = kNoTs;
  // What the commit in flight saves and prunes by: next_arrival and newest when it was handed off.
  std::int64_t arrival_to_save = 0;
  Timestamp newest_to_prune = kNoTs;
  std::vector<Series*> series;
  ~Table() {
    for (sqlite3_stmt* s : {put_block, get_block, tail, covering}) sqlite3_finalize(s);
  }
};

struct HistoryWriter::Series {
  std::int64_t id = 0;
  Table* table = nullptr;
  Timestamp last_ts = kNoTs;  // the identity state: event time and seq of the last row
  std::int64_t seq = 0;
  Block pending;  // rows not handed to a commit yet (the appending thread's)
  bool dirty = false, pending_sorted = true;
  // The appending thread's view of what the file holds or will hold once the commit in flight
  // lands: the last (ts, seq) handed off. Rows at or before it need the database (a replay).
  bool stored_known = false, stored_any = false;
  Timestamp stored_ts_last = 0;
  std::int64_t stored_seq_last = 0;
  // The commit's: the rows it writes, and the last stored block (rows after its last (ts, seq)
  // are new), loaded when first needed.
  Block writing;
  bool writing_sorted = true;
  bool tail_known = false, has_tail = false;
  Timestamp tail_ts_first = 0, tail_ts_last = 0;
  std::int64_t tail_seq_first = 0, tail_seq_last = 0, tail_rows = 0;
  // The stored block last decoded for a duplicate check (replays read consecutive rows).
  Block cached;
  Timestamp cached_ts_first = kNoTs;
  std::int64_t cached_seq_first = 0;
};

HistoryWriter::HistoryWriter(const std::string& path, WriterOptions options)
    : path_(path), options_(options) {
  db_ = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec(options_.full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec("PRAGMA cache_size=-65536");
    const int format = file_format(db_);
    const bool fresh = format == 0;
    if (!fresh && format != kFormat) throw UserError(other_format(path_, format));
    exec(kSchema);
    static_assert(kFormat == 2, "the PRAGMA below writes the format");
    if (fresh) exec("PRAGMA user_version = 2");
    insert_series_ = prepare(db_, path_, "INSERT INTO _pf_series (topic, key, tbl) VALUES (?,?,?)");
    // Every series and table the file already has, so ids and arrival counters continue.
    Stmt tables{prepare(db_, path_, "SELECT tbl FROM _pf_tables")};
    while (sqlite3_step(tables.s) == SQLITE_ROW)
      table(reinterpret_cast<const char*>(sqlite3_column_text(tables.s, 0)));
    Stmt series_rows{prepare(db_, path_, "SELECT id, topic, key, tbl FROM _pf_series")};
    while (sqlite3_step(series_rows.s) == SQLITE_ROW) {
      std::string id_key = reinterpret_cast<const char*>(sqlite3_column_text(series_rows.s, 1));
      id_key += '\x1f';
      id_key += reinterpret_cast<const char*>(sqlite3_column_text(series_rows.s, 2));
      auto s = std::make_unique<Series>();
      s->id = sqlite3_column_int64(series_rows.s, 0);
      s->table = &table(reinterpret_cast<const char*>(sqlite3_column_text(series_rows.s, 3)));
      s->table->series.push_back(s.get());
      series_.emplace(std::move(id_key), std::move(s));
    }
    if (options_.background_commit) worker_ = std::thread([this] { worker_loop(); });
  } catch (...) {
    sqlite3_finalize(insert_series_);
    series_index_.clear();
    series_.clear();
    tables_.clear();
    sqlite3_close(db_);
    throw;
  }
}

HistoryWriter::~HistoryWriter() {
  try {
    commit();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
  }
  if (worker_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    worker_.join();
  }
  sqlite3_finalize(insert_series_);
  series_.clear();
  tables_.clear();
  sqlite3_close(db_);
}

void HistoryWriter::exec(const char* sql) { run(db_, path_, sql); }

void HistoryWriter::restrict_topics(std::vector<std::string> topics) {
  topics_ = std::move(topics);
}

std::uint64_t HistoryWriter::rejects_total() const {
  std::uint64_t n = 0;
  for (auto r : rejects_) n += r;
  return n;
}

Status HistoryWriter::reject(RejectKind kind, std::string detail) {
  ++rejects_[static_cast<int>(kind)];
  return Status(StatusCode::kInvalidArgument,
                fmt::format("{}: {}", reject_kind_name(kind), std::move(detail)));
}

HistoryWriter::Table& HistoryWriter::table(const std::string& name) {
  if (auto it = tables_.find(name); it != tables_.end()) return *it->second;
  auto t = std::make_unique<Table>();
  t->name = name;
  t->quoted = quote_identifier(name);
  t->required = required_fields(name);
  t->required_columns.assign(t->required.size(), -1);
  run(db_, path_,
      fmt::format("CREATE TABLE IF NOT EXISTS {} (_pf_series INTEGER NOT NULL, ts_first INTEGER "
                  "NOT NULL, seq_first INTEGER NOT NULL, ts_last INTEGER NOT NULL, seq_last "
                  "INTEGER NOT NULL, rows INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY "
                  "(_pf_series, ts_first, seq_first)) WITHOUT ROWID",
                  t->quoted));
  {
    Stmt s{
        prepare(db_, path_, "INSERT OR IGNORE INTO _pf_tables (tbl, next_arrival) VALUES (?, 0)")};
    sqlite3_bind_text(s.s, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(s.s) != SQLITE_DONE) fail(db_, path_, "register table " + name);
  }
  {
    Stmt s{prepare(db_, path_, "SELECT next_arrival FROM _pf_tables WHERE tbl = ?")};
    sqlite3_bind_text(s.s, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(s.s) == SQLITE_ROW) t->next_arrival = sqlite3_column_int64(s.s, 0);
  }
  {
    Stmt s{
        prepare(db_, path_, "SELECT name, kind FROM _pf_columns WHERE tbl = ? ORDER BY position")};
    sqlite3_bind_text(s.s, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    while (sqlite3_step(s.s) == SQLITE_ROW) {
      std::string column = reinterpret_cast<const char*>(sqlite3_column_text(s.s, 0));
      auto kind = parse_kind(reinterpret_cast<const char*>(sqlite3_column_text(s.s, 1)));
      t->index[lower(column)] = static_cast<int>(t->columns.size());
      t->columns.push_back(column);
      t->kinds.push_back(kind.value_or(ColumnKind::kJson));
    }
  }
  for (std::size_t r = 0; r < t->required.size(); ++r) {
    if (auto it = t->index.find(t->required[r]); it != t->index.end())
      t->required_columns[r] = it->second;
  }
  t->put_block = prepare(db_, path_, put_block_sql(t->quoted));
  t->get_block = prepare(
      db_, path_,
      fmt::format("SELECT data FROM {} WHERE _pf_series = ? AND ts_first = ? AND seq_first = ?",
                  t->quoted));
  t->tail = prepare(db_, path_,
                    fmt::format("SELECT ts_first, seq_first, ts_last, seq_last, rows FROM {} WHERE "
                                "_pf_series = ? ORDER BY ts_last DESC, seq_last DESC LIMIT 1",
                                t->quoted));
  t->covering = prepare(db_, path_,
                        fmt::format("SELECT ts_first, seq_first, data FROM {} WHERE _pf_series = ? "
                                    "AND ts_first <= ? AND ts_last >= ? ORDER BY ts_first, "
                                    "seq_first",
                                    t->quoted));
  Table& ref = *t;
  tables_.emplace(name, std::move(t));
  return ref;
}

HistoryWriter::Series& HistoryWriter::series(Table& t, std::string_view topic,
                                             std::string_view key) {
  scratch_.assign(topic);
  scratch_ += '\x1f';
  scratch_.append(key);
  Series* found;
  if (auto hit = series_index_.find(scratch_); hit != series_index_.end()) {
    found = hit->second;
  } else {
    auto it = series_.find(scratch_);
    if (it == series_.end()) it = series_.emplace(scratch_, std::make_unique<Series>()).first;
    found = it->second.get();
    series_index_.emplace(scratch_, found);
  }
  Series& s = *found;
  if (s.id != 0) return s;
  touch_db();
  sqlite3_reset(insert_series_);
  sqlite3_bind_text(insert_series_, 1, topic.data(), static_cast<int>(topic.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(insert_series_, 2, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(insert_series_, 3, t.name.data(), static_cast<int>(t.name.size()),
                    SQLITE_TRANSIENT);
  if (sqlite3_step(insert_series_) != SQLITE_DONE) fail(db_, path_, "add series");
  s.id = sqlite3_last_insert_rowid(db_);
  s.table = &t;
  s.tail_known = s.stored_known = true;  // a new series has no blocks
  t.series.push_back(&s);
  return s;
}

void HistoryWriter::load_tail(Series& s) {
  s.tail_known = true;
  s.has_tail = false;
  sqlite3_stmt* q = s.table->tail;
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 1, s.id);
  if (sqlite3_step(q) == SQLITE_ROW) {
    s.has_tail = true;
    s.tail_ts_first = sqlite3_column_int64(q, 0);
    s.tail_seq_first = sqlite3_column_int64(q, 1);
    s.tail_ts_last = sqlite3_column_int64(q, 2);
    s.tail_seq_last = sqlite3_column_int64(q, 3);
    s.tail_rows = sqlite3_column_int64(q, 4);
  }
  sqlite3_reset(q);
}

void HistoryWriter::load_view(Series& s) {
  wait_idle();
  if (!s.tail_known) load_tail(s);
  s.stored_known = true;
  s.stored_any = s.has_tail;
  s.stored_ts_last = s.tail_ts_last;
  s.stored_seq_last = s.tail_seq_last;
}

void HistoryWriter::begin() {
  if (in_transaction_) return;
  exec("BEGIN");
  in_transaction_ = true;
}

void HistoryWriter::touch_db() {
  wait_idle();
  begin();
}

void HistoryWriter::record_symbols(const std::vector<std::string>& names) {
  touch_db();
  exec("DELETE FROM _pf_symbols");
  Stmt s{prepare(db_, path_, "INSERT INTO _pf_symbols (position, name) VALUES (?, ?)")};
  for (std::size_t i = 0; i < names.size(); ++i) {
    sqlite3_reset(s.s);
    sqlite3_bind_int64(s.s, 1, static_cast<std::int64_t>(i));
    sqlite3_bind_text(s.s, 2, names[i].data(), static_cast<int>(names[i].size()), SQLITE_TRANSIENT);
    if (sqlite3_step(s.s) != SQLITE_DONE) fail(db_, path_, "record symbols");
  }
}

namespace {

struct Value {
  int column;
  simdjson::dom::element element;
  ColumnKind kind;
};

// Puts a JSON value into the row being built.
void set_cell(Block& b, int column, const simdjson::dom::element& e) {
  switch (e.type()) {
    case simdjson::dom::element_type::INT64: {
      std::int64_t x = 0;
      if (e.get_int64().get(x)) {
      }
      b.set_int(column, x);
      break;
    }
    case simdjson::dom::element_type::UINT64: {
      // Above int64's range (e.g. random 64-bit order ids): its exact digits, as text.
      std::uint64_t x = 0;
      if (e.get_uint64().get(x)) {
      }
      char digits[24];
      auto n = std::snprintf(digits, sizeof digits, "%llu", static_cast<unsigned long long>(x));
      b.set_text(column, std::string_view(digits, static_cast<std::size_t>(n)));
      break;
    }
    case simdjson::dom::element_type::DOUBLE: {
      double x = 0;
      if (e.get_double().get(x)) {
      }
      b.set_real(column, x);
      break;
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view x;
      if (e.get_string().get(x)) {
      }
      b.set_text(column, x);
      break;
    }
    case simdjson::dom::element_type::BOOL: {
      bool x = false;
      if (e.get_bool().get(x)) {
      }
      b.set_int(column, x ? 1 : 0);
      break;
    }
    default:
      b.set_text(column, simdjson::minify(e));
      break;
  }
}

// True when row `r` of `stored` holds exactly the values of row `r2` of `row` (the message being
// written, built in a one-row block).
bool same_row(const Block& stored, std::size_t r, const Block& row) {
  const std::size_t columns = std::max(stored.columns.size(), row.columns.size());
  for (std::size_t c = 0; c < columns; ++c) {
    const Cell* a = stored.at(static_cast<int>(c), r);
    const Cell* b = row.at(static_cast<int>(c), 0);
    const std::uint8_t absent = detail::kAbsent;
    const std::uint8_t ta = a ? a->tag : absent, tb = b ? b->tag : absent;
    if (ta != tb) return false;
    switch (ta) {
      case detail::kIntCell:
        if (a->i != b->i) return false;
        break;
      case detail::kRealCell:
        if (!(a->d == b->d)) return false;
        break;
      case detail::kTextCell:
        if (stored.text_of(*a) != row.text_of(*b)) return false;
        break;
      default:
        break;
    }
  }
  return true;
}

}  // namespace

Status HistoryWriter::append(std::string_view topic, std::string_view key, std::string_view json,
                             Timestamp message_ts) {
  if (!topics_.empty() && std::find(topics_.begin(), topics_.end(), topic) == topics_.end())
    return reject(RejectKind::kUnknownTopic, fmt::format("topic '{}' is not recorded", topic));
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(json.data(), json.size()).get_object().get(object))
    return reject(RejectKind::kMalformed, fmt::format("{}: not a JSON object", topic));

  Table* tp;
  if (last_table_ && topic == last_topic_) {
    tp = last_table_;
  } else {
    auto found = table_of_topic_.find(std::string(topic));
    if (found == table_of_topic_.end()) {
      touch_db();
      tp = &table(table_for_topic(topic));
      table_of_topic_.emplace(std::string(topic), tp);
    } else {
      tp = found->second;
    }
    last_topic_.assign(topic);
    last_table_ = tp;
  }
  Table& t = *tp;

  // Validate every field; the row is kept only when all of them are fine.
  thread_local std::vector<Value> values;
  values.clear();
  // One pass over the fields: the event time and the key (they identify the row), then a column
  // for every other non-null field.
  Timestamp ts = kNoTs;
  bool has_ts = false;
  std::string key_text;
  std::string_view key_view = key;
  bool keyed_by_symbol = false;
  bool second_pass = false;  // new columns or widened kinds to record once the row is good
  std::size_t ordinal = 0;
  for (auto [field, element] : object) {
    const std::size_t at = ordinal++;
    Table::FieldSlot* slot =
        at < t.field_cache.size() && t.field_cache[at].name == field ? &t.field_cache[at] : nullptr;
    if (slot ? slot->is_ts : field == "ts") {
      std::int64_t v;
      if (element.get_int64().get(v))
        return reject(RejectKind::kNoEventTime, fmt::format("{}: 'ts' is not an integer", topic));
      ts = v;
      has_ts = true;
      if (!slot) t.remember_field(at, field, true, 0, -2);
      continue;
    }
    // A null is an absent value: it neither makes a column nor fixes a column's kind.
    if (element.type() == simdjson::dom::element_type::NULL_VALUE) continue;
    const std::uint8_t key_role = slot                ? slot->key_role
                                  : field == "symbol" ? 1
                                  : field == "pair"   ? 2
                                                      : 0;
    if (key_role == 1) {
      std::string_view symbol;
      if (!element.get_string().get(symbol)) {
        key_view = symbol;
        keyed_by_symbol = true;
      }
    } else if (key_role == 2 && !keyed_by_symbol) {
      std::int64_t pair;
      std::string_view pair_text;
      if (!element.get_int64().get(pair)) {
        key_text = std::to_string(pair);
        key_view = key_text;
      } else if (!element.get_string().get(pair_text)) {
        key_view = pair_text;
      }
    }
    ColumnKind kind;
    switch (element.type()) {
      case simdjson::dom::element_type::INT64:
      case simdjson::dom::element_type::UINT64:
        kind = ColumnKind::kInt;
        break;
      case simdjson::dom::element_type::DOUBLE:
        kind = ColumnKind::kReal;
        break;
      case simdjson::dom::element_type::STRING: {
        kind = ColumnKind::kText;
        std::string_view s;
        if (element.get_string().get(s)) {
        }
        if (s.size() > options_.max_string)
          return reject(RejectKind::kStringTooLong,
                        fmt::format("{}: field '{}' is {} bytes (limit {})", topic, field, s.size(),
                                    options_.max_string));
        break;
      }
      case simdjson::dom::element_type::BOOL:
        kind = ColumnKind::kBool;
        break;
      default:
        kind = ColumnKind::kJson;
        break;
    }
    int column = slot ? slot->column : -2;
    if (column == -2) {
      std::string name = lower(field);
      auto it = t.index.find(name);
      if (it == t.index.end()) {
        if (field.empty() || field.size() > 64 || name.rfind("_pf_", 0) == 0)
          return reject(
              RejectKind::kBadFieldName,
              fmt::format("{}: field name '{}' is empty, longer than 64 bytes or reserved", topic,
                          field.substr(0, 80)));
        if (t.columns.size() >= options_.max_columns)
          return reject(RejectKind::kTooManyColumns,
                        fmt::format("{}: table '{}' has {} columns (limit {}); field '{}' is new",
                                    topic, t.name, t.columns.size(), options_.max_columns, field));
        column = -1;  // added below, once the row is known to be good
        second_pass = true;
      } else {
        column = it->second;
        if (t.columns[column] != field)
          return reject(RejectKind::kBadFieldName,
                        fmt::format("{}: field '{}' differs from column '{}' only in case", topic,
                                    field, t.columns[column]));
        t.remember_field(at, field, false, key_role, column);
      }
    }
    if (column >= 0) {
      ColumnKind have = t.kinds[column];
      if (kind != have) {
        const bool fits = (have == ColumnKind::kReal && kind == ColumnKind::kInt) ||
                          (have == ColumnKind::kInt && kind == ColumnKind::kReal);
        if (!fits)
          return reject(RejectKind::kTypeConflict,
                        fmt::format("{}: field '{}' is {}, earlier rows stored {}", topic, field,
                                    column_kind_name(kind), column_kind_name(have)));
        if (have == ColumnKind::kInt) second_pass = true;  // widens to real
      }
    }
    values.push_back({column, element, kind});
  }
  if (!has_ts) {
    if (message_ts == 0)
      return reject(RejectKind::kNoEventTime, fmt::format("{}: no 'ts' field", topic));
    ts = message_ts;
  }
  for (std::size_t r = 0; r < t.required.size(); ++r) {
    // JSON has no NaN or infinity: a number that parsed is finite.
    bool ok = false;
    const int column = t.required_columns[r];
    if (column >= 0) {
      for (const Value& v : values)
        if (v.column == column) ok = v.kind == ColumnKind::kInt || v.kind == ColumnKind::kReal;
    } else {
      simdjson::dom::element e;
      double v;
      ok = !object[t.required[r]].get(e) && !e.get_double().get(v) && std::isfinite(v);
    }
    if (!ok)
      return reject(RejectKind::kBadNumber,
                    fmt::format("{}: field '{}' must be a finite number", topic, t.required[r]));
  }

  // New columns and widened kinds (the row is good).
  std::size_t i = 0;
  if (second_pass) {
    touch_db();
    for (auto [field, element] : object) {
      if (field == "ts" || element.type() == simdjson::dom::element_type::NULL_VALUE) continue;
      Value& v = values[i++];
      if (v.column >= 0) {
        if (t.kinds[v.column] == ColumnKind::kInt && v.kind == ColumnKind::kReal) {
          t.kinds[v.column] = ColumnKind::kReal;  // widen
          Stmt s{prepare(db_, path_,
                         "UPDATE _pf_columns SET kind = 'real' WHERE tbl = ? AND name = ?")};
          sqlite3_bind_text(s.s, 1, t.name.data(), static_cast<int>(t.name.size()),
                            SQLITE_TRANSIENT);
          sqlite3_bind_text(s.s, 2, t.columns[v.column].data(),
                            static_cast<int>(t.columns[v.column].size()), SQLITE_TRANSIENT);
          if (sqlite3_step(s.s) != SQLITE_DONE) fail(db_, path_, "widen column");
        }
        continue;
      }
      std::string name = lower(field);
      if (auto again = t.index.find(name); again != t.index.end()) {  // a field repeated in the row
        v.column = again->second;
        continue;
      }
      const int column = static_cast<int>(t.columns.size());
      Stmt s{prepare(db_, path_,
                     "INSERT INTO _pf_columns (tbl, name, kind, position) VALUES (?, ?, ?, ?)")};
      sqlite3_bind_text(s.s, 1, t.name.data(), static_cast<int>(t.name.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(s.s, 2, field.data(), static_cast<int>(field.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(s.s, 3, column_kind_name(v.kind), -1, SQLITE_STATIC);
      sqlite3_bind_int(s.s, 4, column);
      if (sqlite3_step(s.s) != SQLITE_DONE) fail(db_, path_, "add column");
      t.columns.emplace_back(field);
      t.kinds.push_back(v.kind);
      t.index.emplace(std::move(name), column);
      for (std::size_t r = 0; r < t.required.size(); ++r)
        if (t.required[r] == field) t.required_columns[r] = column;
      v.column = column;
    }
  }

  // The row's identity: (series, ts, seq), seq counting rows of the series at this instant.
  Series& s = series(t, topic, key_view);
  if (!s.stored_known) load_view(s);
  std::int64_t seq = 0;
  if (ts == s.last_ts) {
    seq = s.seq + 1;
  } else if (s.last_ts != kNoTs && ts < s.last_ts) {
    seq = -1;  // out of order within its series: after whatever that instant holds (below)
  }

  // At or before what the file already holds for the series: a replay of rows written before
  // (skipped when the stored row at that identity is the same message), or a late row.
  const bool below_stored =
      s.stored_any &&
      (ts < s.stored_ts_last || (ts == s.stored_ts_last && seq >= 0 && seq <= s.stored_seq_last));
  if (seq < 0 || below_stored) {
    load_view(s);  // the database as the commits left it
    thread_local Block row;
    row.clear();
    row.columns.clear();
    row.begin_row(ts, 0, 0);
    for (const Value& v : values) set_cell(row, v.column, v.element);
    std::int64_t max_seq = -1;
    bool duplicate = false;
    if (s.has_tail && ts <= s.tail_ts_last) {
      sqlite3_stmt* q = t.covering;
      sqlite3_reset(q);
      sqlite3_bind_int64(q, 1, s.id);
      sqlite3_bind_int64(q, 2, ts);
      sqlite3_bind_int64(q, 3, ts);
      while (sqlite3_step(q) == SQLITE_ROW) {
        const Timestamp first = sqlite3_column_int64(q, 0);
        const std::int64_t first_seq = sqlite3_column_int64(q, 1);
        if (first != s.cached_ts_first || first_seq != s.cached_seq_first) {
          const auto* data = static_cast<const char*>(sqlite3_column_blob(q, 2));
          if (!detail::decode(std::string_view(data, sqlite3_column_bytes(q, 2)), s.cached))
            fail(db_, path_, "a corrupt block in " + t.name);
          s.cached_ts_first = first;
          s.cached_seq_first = first_seq;
        }
        const Block& b = s.cached;
        auto lo = std::lower_bound(b.ts.begin(), b.ts.end(), ts) - b.ts.begin();
        for (auto r = static_cast<std::size_t>(lo); r < b.rows() && b.ts[r] == ts; ++r) {
          max_seq = std::max(max_seq, b.seq[r]);
          if (seq >= 0 && b.seq[r] == seq && same_row(b, r, row)) duplicate = true;
        }
      }
      sqlite3_reset(q);
    }
    for (std::size_t r = 0; r < s.pending.rows(); ++r)
      if (s.pending.ts[r] == ts) max_seq = std::max(max_seq, s.pending.seq[r]);
    if (duplicate) {
      if (ts >= s.last_ts || s.last_ts == kNoTs) {
        s.last_ts = ts;
        s.seq = seq;
      }
      ++duplicates_;
      return Status::success();
    }
    if (seq < 0 || seq <= max_seq) seq = max_seq + 1;  // a new message at an occupied instant
    if (s.pending.rows() > 0 || s.has_tail) s.pending_sorted = false;
  }
  if (ts > s.last_ts || s.last_ts == kNoTs || (ts == s.last_ts && seq > s.seq)) {
    s.last_ts = ts;
    s.seq = seq;
  }

  Block& p = s.pending;
  if (p.rows() > 0 && (ts < p.ts.back() || (ts == p.ts.back() && seq < p.seq.back())))
    s.pending_sorted = false;
  p.begin_row(ts, seq, t.next_arrival++);
  for (const Value& v : values) set_cell(p, v.column, v.element);
  if (!s.dirty) {
    s.dirty = true;
    dirty_.push_back(&s);
  }
  if (ts > t.newest) t.newest = ts;
  crash_point("history_row");  // tests: kill -9 in the middle of a batch
  ++rows_;
  if (++pending_ >= options_.batch_rows) hand_off(/*wait=*/false);
  return Status::success();
}

void HistoryWriter::write_pending(Series& s) {
  Table& t = *s.table;
  Block& p = s.writing;
  if (p.rows() == 0) return;
  if (!s.tail_known) load_tail(s);
  auto put = [&](const Block& b) {
    write_block(db_, path_, t.put_block, s.id, b, encoded_);
    const bool at_end = !s.has_tail || b.ts.back() > s.tail_ts_last ||
                        (b.ts.back() == s.tail_ts_last && b.seq.back() >= s.tail_seq_last);
    if (at_end) {
      s.has_tail = true;
      s.tail_ts_first = b.ts.front();
      s.tail_seq_first = b.seq.front();
      s.tail_ts_last = b.ts.back();
      s.tail_seq_last = b.seq.back();
      s.tail_rows = static_cast<std::int64_t>(b.rows());
    }
  };
  const bool after_tail =
      s.writing_sorted && (!s.has_tail || p.ts.front() > s.tail_ts_last ||
                           (p.ts.front() == s.tail_ts_last && p.seq.front() > s.tail_seq_last));
  if (!s.writing_sorted) p.sort();
  std::size_t start = 0;
  if (after_tail && s.has_tail && s.tail_rows < static_cast<std::int64_t>(detail::kTailMergeRows) &&
      p.rows() < detail::kTailMergeRows / 4) {
    // A trickle (a few rows per commit) into a small last block: the block takes them, rewritten
    // under the same key, so slow series do not become one block per commit.
    sqlite3_stmt* g = t.get_block;
    sqlite3_reset(g);
    sqlite3_bind_int64(g, 1, s.id);
    sqlite3_bind_int64(g, 2, s.tail_ts_first);
    sqlite3_bind_int64(g, 3, s.tail_seq_first);
    thread_local Block merged;
    bool ok = false;
    if (sqlite3_step(g) == SQLITE_ROW) {
      const auto* data = static_cast<const char*>(sqlite3_column_blob(g, 0));
      ok = detail::decode(std::string_view(data, sqlite3_column_bytes(g, 0)), merged);
    }
    sqlite3_reset(g);
    if (ok) {
      const std::size_t take =
          std::min(p.rows(), detail::kBlockRows - std::min(detail::kBlockRows, merged.rows()));
      for (std::size_t r = 0; r < take; ++r) merged.append_row_of(p, r);
      put(merged);
      start = take;
    }
  }
  thread_local Block chunk;
  while (start < p.rows()) {
    const std::size_t end = std::min(p.rows(), start + detail::kBlockRows);
    if (start == 0 && end == p.rows()) {
      put(p);
    } else {
      chunk.clear();
      chunk.columns.clear();
      for (std::size_t r = start; r < end; ++r) chunk.append_row_of(p, r);
      put(chunk);
    }
    start = end;
  }
  s.cached_ts_first = kNoTs;  // a block it cached may have been rewritten
  p.clear();                  // keeps the columns' capacity for the next batch
  s.writing_sorted = true;
}

void HistoryWriter::apply_retention() {
  if (options_.retention <= 0) return;
  for (auto& [name, t] : tables_) {
    if (t->newest_to_prune == kNoTs) continue;
    const Timestamp before = t->newest_to_prune - options_.retention;
    if (t->pruned_before != kNoTs && before <= t->pruned_before) continue;
    for (Series* s : t->series) {
      delete_before(db_, path_, t->quoted, s->id, before, encoded_);
      s->tail_known = false;
      s->cached_ts_first = kNoTs;
    }
    t->pruned_before = before;
  }
}

void HistoryWriter::commit() { hand_off(/*wait=*/true); }

void HistoryWriter::wait_idle() {
  if (!worker_.joinable()) return;
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return !busy_; });
  if (error_) {
    std::exception_ptr e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

void HistoryWriter::hand_off(bool wait) {
  wait_idle();  // at most one batch in flight: the worker's state is this thread's again
  if (dirty_.empty() && !in_transaction_) return;
  for (Series* s : dirty_) {
    Block& p = s->pending;
    // What the file will hold for the series: its last (ts, seq) so far or these rows' (the last
    // row when they came in order, else a scan).
    const std::size_t from = s->pending_sorted && p.rows() > 0 ? p.rows() - 1 : 0;
    for (std::size_t r = from; r < p.rows(); ++r) {
      if (!s->stored_any || p.ts[r] > s->stored_ts_last ||
          (p.ts[r] == s->stored_ts_last && p.seq[r] > s->stored_seq_last)) {
        s->stored_any = true;
        s->stored_ts_last = p.ts[r];
        s->stored_seq_last = p.seq[r];
      }
    }
    std::swap(s->writing, p);  // the worker's emptied block (capacity kept) becomes pending
    p.clear();
    s->writing_sorted = s->pending_sorted;
    s->pending_sorted = true;
    s->dirty = false;
  }
  writing_.swap(dirty_);
  dirty_.clear();
  for (auto& [name, t] : tables_) {
    t->arrival_to_save = t->next_arrival;
    t->newest_to_prune = t->newest;
  }
  pending_ = 0;
  if (!worker_.joinable()) {
    write_batch();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    busy_ = true;
  }
  wake_.notify_one();
  if (wait) wait_idle();
}

void HistoryWriter::worker_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return busy_ || stopping_; });
    if (!busy_) return;  // stopping, nothing in flight
    lock.unlock();
    std::exception_ptr failed;
    try {
      write_batch();
    } catch (...) {
      failed = std::current_exception();
    }
    lock.lock();
    error_ = failed;
    busy_ = false;
    idle_.notify_all();
  }
}

void HistoryWriter::write_batch() {
  begin();
  for (Series* s : writing_) write_pending(*s);
  writing_.clear();
  apply_retention();
  Stmt s{prepare(db_, path_, "UPDATE _pf_tables SET next_arrival = ? WHERE tbl = ?")};
  for (auto& [name, t] : tables_) {
    sqlite3_reset(s.s);
    sqlite3_bind_int64(s.s, 1, t->arrival_to_save);
    sqlite3_bind_text(s.s, 2, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(s.s) != SQLITE_DONE) fail(db_, path_, "save arrival counter");
  }
  exec("COMMIT");
  in_transaction_ = false;
  ++commits_;
}

std::string HistoryWriter::snapshot() const {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("series").begin_object();
  for (const auto& [id_key, s] : series_) {
    if (s->last_ts == kNoTs) continue;
    w.key(id_key).begin_array().value(s->last_ts).value(s->seq).end_array();
  }
  w.end_object().end_object();
  return out;
}

void HistoryWriter::restore(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object root, series;
  if (parser.parse(json.data(), json.size()).get_object().get(root) ||
      root["series"].get_object().get(series))
    throw UserError(fmt::format("{}: history writer state is not valid JSON", path_));
  for (auto [id_key, value] : series) {
    simdjson::dom::array a;
    std::int64_t last = 0, seq = 0;
    if (value.get_array().get(a) || a.size() != 2 || a.at(0).get_int64().get(last) ||
        a.at(1).get_int64().get(seq))
      throw UserError(fmt::format("{}: history writer state: bad entry", path_));
    auto it = series_.find(id_key);
    if (it == series_.end())
      it = series_.emplace(std::string(id_key), std::make_unique<Series>()).first;
    it->second->last_ts = last;
    it->second->seq = seq;
  }
}

// --- reader ----------------------------------------------------------------------------------

// The rows of one series in [from, to), block by block, in (ts, seq) order. Blocks that overlap
// (a late row written after later ones) are merged before their rows are handed out.
struct Cursor::Stream {
  sqlite3_stmt* blocks = nullptr;  // this series' blocks in key order
  std::string path;
  Timestamp from = kMinTimestamp, to = kMaxTimestamp;
  Block block;
  std::size_t row = 0;
  bool pending_fetched = false, has_pending = false;
  Block pending;  // the next block, read ahead to find overlaps
  ~Stream() { sqlite3_finalize(blocks); }

  bool fetch(Block& into) {
    const int rc = sqlite3_step(blocks);
    if (rc == SQLITE_DONE) return false;
    if (rc != SQLITE_ROW)
      throw UserError(
          fmt::format("{}: history: read: {}", path, sqlite3_errmsg(sqlite3_db_handle(blocks))));
    const auto* data = static_cast<const char*>(sqlite3_column_blob(blocks, 0));
    if (!detail::decode(std::string_view(data, sqlite3_column_bytes(blocks, 0)), into))
      throw UserError(fmt::format("{}: history: a corrupt block", path));
    return true;
  }
  bool peek() {
    if (!pending_fetched) {
      has_pending = fetch(pending);
      pending_fetched = true;
    }
    return has_pending;
  }
  // Loads the next block (merging overlapping ones); false at the end.
  bool load() {
    if (!peek()) return false;
    std::swap(block, pending);
    pending_fetched = false;
    bool merged = false;
    while (block.rows() > 0 && peek() && pending.rows() > 0 &&
           (pending.ts.front() < block.ts.back() ||
            (pending.ts.front() == block.ts.back() && pending.seq.front() < block.seq.back()))) {
      for (std::size_t r = 0; r < pending.rows(); ++r) block.append_row_of(pending, r);
      pending_fetched = false;
      merged = true;
    }
    if (merged) block.sort();
    row = static_cast<std::size_t>(std::lower_bound(block.ts.begin(), block.ts.end(), from) -
                                   block.ts.begin());
    return true;
  }
  // Moves to the next row in range; false at the end.
  bool advance(bool first) {
    if (!first) ++row;
    for (;;) {
      if (row < block.rows()) {
        if (block.ts[row] >= to) return false;  // blocks come in time order
        return true;
      }
      if (!load()) return false;
    }
  }
  Timestamp ts() const { return block.ts[row]; }
  std::int64_t arrival() const { return block.arrival[row]; }
};

Cursor::Cursor(std::vector<ColumnInfo> columns, std::vector<std::unique_ptr<Stream>> streams,
               std::size_t limit)
    : columns_(std::move(columns)), streams_(std::move(streams)), limit_(limit) {}
Cursor::~Cursor() = default;
Cursor::Cursor(Cursor&& other) noexcept = default;

bool Cursor::next() {
  if (limit_ > 0 && returned_ >= limit_) return false;
  auto order = [](const Stream* a, const Stream* b) {  // a min-heap on (ts, arrival)
    return a->ts() != b->ts() ? a->ts() > b->ts() : a->arrival() > b->arrival();
  };
  if (!started_) {
    started_ = true;
    for (auto& s : streams_)
      if (s->advance(true)) heap_.push_back(s.get());
    std::make_heap(heap_.begin(), heap_.end(), order);
  } else if (current_) {
    if (heap_.size() == 1 && heap_.front() == current_) {
      if (!current_->advance(false)) heap_.clear();
    } else {
      std::pop_heap(heap_.begin(), heap_.end(), order);
      if (current_->advance(false)) {
        std::push_heap(heap_.begin(), heap_.end(), order);
      } else {
        heap_.pop_back();
      }
    }
  }
  if (heap_.empty()) {
    current_ = nullptr;
    return false;
  }
  current_ = heap_.front();
  ++returned_;
  return true;
}

namespace {
const Cell* cell_of(const Block& b, int c, std::size_t row) {
  return c == 0 ? nullptr : b.at(c - 1, row);
}
}  // namespace

bool Cursor::is_null(int c) const {
  if (c == 0) return false;
  const Cell* x = cell_of(current_->block, c, current_->row);
  return !x || x->tag == detail::kAbsent;
}
bool Cursor::is_real(int c) const {
  const Cell* x = cell_of(current_->block, c, current_->row);
  return x && x->tag == detail::kRealCell;
}
bool Cursor::is_text(int c) const {
  const Cell* x = cell_of(current_->block, c, current_->row);
  return x && x->tag == detail::kTextCell;
}
std::int64_t Cursor::integer(int c) const {
  if (c == 0) return current_->block.ts[current_->row];
  const Cell* x = cell_of(current_->block, c, current_->row);
  if (!x) return 0;
  return x->tag == detail::kRealCell ? static_cast<std::int64_t>(x->d) : x->i;
}
double Cursor::real(int c) const {
  if (c == 0) return static_cast<double>(current_->block.ts[current_->row]);
  const Cell* x = cell_of(current_->block, c, current_->row);
  if (!x) return 0;
  return x->tag == detail::kIntCell ? static_cast<double>(x->i) : x->d;
}
std::string_view Cursor::text(int c) const {
  const Cell* x = cell_of(current_->block, c, current_->row);
  if (!x) return {};
  if (x->tag == detail::kTextCell) return current_->block.text_of(*x);
  thread_local std::string number;
  number = x->tag == detail::kIntCell ? std::to_string(x->i) : json_number(x->d);
  return number;
}

void Cursor::append_json(std::string& out) const {
  JsonWriter w(out);
  w.begin_object();
  w.key("ts").value(integer(0));
  for (int c = 1; c < static_cast<int>(columns_.size()); ++c) {
    const Cell* x = cell_of(current_->block, c, current_->row);
    if (!x || x->tag == detail::kAbsent) continue;
    w.key(columns_[c].name);
    switch (columns_[c].kind) {
      case ColumnKind::kBool:
        w.value(x->i != 0);
        break;
      case ColumnKind::kJson:
        w.raw(current_->block.text_of(*x));
        break;
      case ColumnKind::kText:
        w.value(current_->block.text_of(*x));
        break;
      case ColumnKind::kInt:
      case ColumnKind::kReal:
        if (x->tag == detail::kIntCell)
          w.value(x->i);
        else if (x->tag == detail::kRealCell)
          w.value(x->d);
        else
          w.raw(current_->block.text_of(*x));  // the exact digits of an integer beyond int64
        break;
    }
  }
  w.end_object();
}

HistoryReader::HistoryReader(const std::string& path, bool writable) : path_(path) {
  db_ = open_db(path,
                (writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX);
  sqlite3_stmt* probe = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT 1 FROM _pf_series LIMIT 1", -1, &probe, nullptr) !=
      SQLITE_OK) {
    sqlite3_finalize(probe);
    sqlite3_close(db_);
    db_ = nullptr;
    throw UserError(fmt::format("{}: not a pairflow history file", path));
  }
  sqlite3_finalize(probe);
  if (const int format = file_format(db_); format != kFormat) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw UserError(other_format(path, format));
  }
}

HistoryReader::~HistoryReader() { sqlite3_close(db_); }

std::vector<TopicInfo> HistoryReader::topics() {
  std::vector<TopicInfo> out;
  std::vector<std::string> tables;
  {
    Stmt s{prepare(db_, path_, "SELECT tbl FROM _pf_tables ORDER BY tbl")};
    while (sqlite3_step(s.s) == SQLITE_ROW)
      tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s.s, 0)));
  }
  for (const std::string& table : tables) {
    Stmt s{
        prepare(db_, path_,
                fmt::format("SELECT s.topic, sum(t.rows), count(DISTINCT s.id), min(t.ts_first), "
                            "max(t.ts_last) FROM {} t JOIN _pf_series s ON s.id = t._pf_series "
                            "GROUP BY s.topic ORDER BY s.topic",
                            quote_identifier(table)))};
    while (sqlite3_step(s.s) == SQLITE_ROW) {
      TopicInfo info;
      info.topic = reinterpret_cast<const char*>(sqlite3_column_text(s.s, 0));
      info.table = table;
      info.rows = sqlite3_column_int64(s.s, 1);
      info.keys = sqlite3_column_int64(s.s, 2);
      info.first = sqlite3_column_int64(s.s, 3);
      info.last = sqlite3_column_int64(s.s, 4);
      out.push_back(std::move(info));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const TopicInfo& a, const TopicInfo& b) { return a.topic < b.topic; });
  return out;
}

Cursor HistoryReader::query(const Query& q) {
  const std::string table = table_for_topic(q.topic);
  std::vector<std::int64_t> ids;
  bool known = false;
  {
    Stmt s{prepare(db_, path_, "SELECT id, key FROM _pf_series WHERE topic = ? ORDER BY id")};
    sqlite3_bind_text(s.s, 1, q.topic.data(), static_cast<int>(q.topic.size()), SQLITE_TRANSIENT);
    while (sqlite3_step(s.s) == SQLITE_ROW) {
      known = true;
      const std::string_view key = reinterpret_cast<const char*>(sqlite3_column_text(s.s, 1));
      if (!q.key || key == *q.key) ids.push_back(sqlite3_column_int64(s.s, 0));
    }
  }
  if (!known) {
    std::string stored;
    Stmt s{prepare(db_, path_, "SELECT DISTINCT topic FROM _pf_series ORDER BY topic")};
    while (sqlite3_step(s.s) == SQLITE_ROW)
      stored += (stored.empty() ? "" : ", ") +
                std::string(reinterpret_cast<const char*>(sqlite3_column_text(s.s, 0)));
    throw UserError(fmt::format("{}: unknown topic '{}' (stored: {})", path_, q.topic,
                                stored.empty() ? "nothing" : stored));
  }
  std::vector<ColumnInfo> columns = {{"ts", ColumnKind::kInt}};
  {
    Stmt s{
        prepare(db_, path_, "SELECT name, kind FROM _pf_columns WHERE tbl = ? ORDER BY position")};
    sqlite3_bind_text(s.s, 1, table.data(), static_cast<int>(table.size()), SQLITE_TRANSIENT);
    while (sqlite3_step(s.s) == SQLITE_ROW) {
      ColumnInfo c;
      c.name = reinterpret_cast<const char*>(sqlite3_column_text(s.s, 0));
      c.kind = parse_kind(reinterpret_cast<const char*>(sqlite3_column_text(s.s, 1)))
                   .value_or(ColumnKind::kJson);
      columns.push_back(std::move(c));
    }
  }
  std::vector<std::unique_ptr<Cursor::Stream>> streams;
  const std::string sql = fmt::format(
      "SELECT data FROM {} WHERE _pf_series = ? AND ts_last >= ? AND ts_first < ? ORDER BY "
      "ts_first, seq_first",
      quote_identifier(table));
  for (std::int64_t id : ids) {
    auto stream = std::make_unique<Cursor::Stream>();
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stream->blocks, nullptr) != SQLITE_OK)
      fail(db_, path_, "query " + q.topic);
    sqlite3_bind_int64(stream->blocks, 1, id);
    sqlite3_bind_int64(stream->blocks, 2, q.from);
    sqlite3_bind_int64(stream->blocks, 3, q.to);
    stream->path = path_;
    stream->from = q.from;
    stream->to = q.to;
    streams.push_back(std::move(stream));
  }
  return Cursor(std::move(columns), std::move(streams), q.limit);
}

std::vector<std::string> HistoryReader::symbols() {
  std::vector<std::string> out;
  Stmt s{prepare(db_, path_, "SELECT name FROM _pf_symbols ORDER BY position")};
  while (sqlite3_step(s.s) == SQLITE_ROW)
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s.s, 0)));
  return out;
}

std::optional<Timestamp> HistoryReader::newest(const std::string& topic) {
  std::optional<Timestamp> best;
  for (const TopicInfo& info : topics()) {
    if (!topic.empty() && info.topic != topic) continue;
    if (!best || info.last > *best) best = info.last;
  }
  return best;
}

std::uint64_t HistoryReader::prune(Timestamp before, const std::string& topic) {
  run(db_, path_, "BEGIN");
  std::vector<std::tuple<std::int64_t, std::string>> todo;
  {
    Stmt series{prepare(db_, path_, "SELECT id, tbl, topic FROM _pf_series")};
    while (sqlite3_step(series.s) == SQLITE_ROW) {
      std::string t = reinterpret_cast<const char*>(sqlite3_column_text(series.s, 2));
      if (!topic.empty() && t != topic) continue;
      todo.emplace_back(sqlite3_column_int64(series.s, 0),
                        reinterpret_cast<const char*>(sqlite3_column_text(series.s, 1)));
    }
  }
  std::uint64_t deleted = 0;
  std::string scratch;
  for (const auto& [id, table] : todo)
    deleted += delete_before(db_, path_, quote_identifier(table), id, before, scratch);
  run(db_, path_, "COMMIT");
  return deleted;
}

TickReader::TickReader(const std::string& path, const Query& query) : reader_(path) {
  cursor_.emplace(reader_.query(query));
  const auto& columns = cursor_->columns();
  for (int c = 0; c < static_cast<int>(columns.size()); ++c) {
    const std::string& n = columns[c].name;
    if (n == "symbol") symbol_ = c;
    if (n == "price") price_ = c;
    if (n == "size") size_ = c;
    if (n == "bid") bid_ = c;
    if (n == "ask") ask_ = c;
    if (n == "bid_size") bid_size_ = c;
    if (n == "ask_size") ask_size_ = c;
  }
  if (symbol_ < 0 || price_ < 0 || size_ < 0)
    throw UserError(fmt::format("{}: topic '{}' has no symbol, price or size column (not ticks)",
                                path, query.topic));
}

bool TickReader::next(Tick& tick, SymbolTable& symbols) {
  Cursor& c = *cursor_;
  if (!c.next()) return false;
  auto number = [&](int i) { return i < 0 || c.is_null(i) ? kNaNValue : c.real(i); };
  tick = Tick{};
  tick.ts = c.integer(0);
  const std::string_view name = c.text(symbol_);
  auto id = symbols.find(name);
  tick.symbol = id ? *id : symbols.intern(name);
  tick.price = number(price_);
  tick.size = c.is_null(size_) ? 0 : c.real(size_);
  tick.bid = number(bid_);
  tick.ask = number(ask_);
  tick.bid_size = number(bid_size_);
  tick.ask_size = number(ask_size_);
  return true;
}

Frame read_frame(const std::string& path, const Query& query) {
  HistoryReader reader(path);
  Cursor cursor = reader.query(query);
  Frame frame;
  for (const ColumnInfo& c : cursor.columns()) {
    FrameColumn column;
    column.name = c.name;
    column.kind = c.kind;
    frame.columns.push_back(std::move(column));
  }
  while (cursor.next()) {
    for (int c = 0; c < static_cast<int>(frame.columns.size()); ++c) {
      FrameColumn& col = frame.columns[c];
      const bool null = cursor.is_null(c);
      col.null.push_back(null);
      col.has_null |= null;
      switch (c == 0 ? ColumnKind::kInt : col.kind) {
        case ColumnKind::kInt:
          if (!null && cursor.is_text(c) && !col.beyond_int64) {
            // From here on keep every value as text too (the earlier ones are converted).
            col.beyond_int64 = true;
            col.text.reserve(col.integer.size() + 1);
            for (std::size_t r = 0; r < col.integer.size(); ++r)
              col.text.push_back(col.null[r] ? "" : std::to_string(col.integer[r]));
          }
          col.integer.push_back(null ? 0 : cursor.integer(c));
          if (col.beyond_int64) col.text.emplace_back(null ? "" : cursor.text(c));
          break;
        case ColumnKind::kBool:
          col.integer.push_back(null ? 0 : cursor.integer(c));
          break;
        case ColumnKind::kReal:
          col.real.push_back(null ? kNaNValue : cursor.real(c));
          break;
        case ColumnKind::kText:
        case ColumnKind::kJson:
          col.text.emplace_back(null ? "" : cursor.text(c));
          break;
      }
    }
    ++frame.rows;
  }
  return frame;
}

std::string resolve_history_path(const std::string& explicit_path) {
  std::string path = explicit_path;
  if (path.empty()) {
    const char* env = std::getenv("PAIRFLOW_HISTORY");
    if (env) path = env;
  }
  if (path.empty())
    throw UserError(
        "no history file: pass db=FILE, or set PAIRFLOW_HISTORY (a pipeline file's `history = "
        "FILE`, or --history FILE)");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw UserError(fmt::format("{}: no such history file", path));
  return path;
}

}  // namespace pairflow::history
