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

namespace pairflow::history {
namespace {

constexpr Timestamp kNoTs = std::numeric_limits<Timestamp>::min();
constexpr double kNaNValue = std::numeric_limits<double>::quiet_NaN();

// Internal tables; data tables never start with "_pf_" (table_for_topic prefixes a leading '_').
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

struct HistoryWriter::Table {
  std::string name, quoted;
  std::vector<std::string> columns;  // fields other than ts, in the order they first appeared
  std::vector<ColumnKind> kinds;
  std::unordered_map<std::string, int> index;  // lower-case name -> column
  std::vector<std::string> required;
  std::vector<int> required_columns;                     // -1 until the column exists
  std::vector<std::pair<std::string, int>> field_cache;  // by position in the last message
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* max_seq = nullptr;
  std::int64_t next_arrival = 0;
  Timestamp newest = kNoTs, pruned_before = kNoTs;
  ~Table() {
    sqlite3_finalize(insert);
    sqlite3_finalize(max_seq);
  }
};

HistoryWriter::HistoryWriter(const std::string& path, WriterOptions options)
    : path_(path), options_(options) {
  db_ = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec(options_.full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec("PRAGMA cache_size=-65536");
    exec(kSchema);
    insert_series_ = prepare(db_, path_, "INSERT INTO _pf_series (topic, key, tbl) VALUES (?,?,?)");
    // Every series and table the file already has, so ids and arrival counters continue.
    Stmt tables{prepare(db_, path_, "SELECT tbl FROM _pf_tables")};
    while (sqlite3_step(tables.s) == SQLITE_ROW)
      table(reinterpret_cast<const char*>(sqlite3_column_text(tables.s, 0)));
    Stmt series_rows{prepare(db_, path_, "SELECT id, topic, key FROM _pf_series")};
    while (sqlite3_step(series_rows.s) == SQLITE_ROW) {
      std::string id_key = reinterpret_cast<const char*>(sqlite3_column_text(series_rows.s, 1));
      id_key += '\x1f';
      id_key += reinterpret_cast<const char*>(sqlite3_column_text(series_rows.s, 2));
      series_[id_key].id = sqlite3_column_int64(series_rows.s, 0);
    }
  } catch (...) {
    sqlite3_finalize(insert_series_);
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
  sqlite3_finalize(insert_series_);
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
      fmt::format("CREATE TABLE IF NOT EXISTS {} (_pf_series INTEGER NOT NULL, ts INTEGER NOT "
                  "NULL, _pf_seq INTEGER NOT NULL, _pf_arrival INTEGER NOT NULL, PRIMARY KEY "
                  "(_pf_series, ts, _pf_seq)) WITHOUT ROWID",
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
  t->max_seq = prepare(
      db_, path_,
      fmt::format("SELECT max(_pf_seq) FROM {} WHERE _pf_series = ? AND ts = ?", t->quoted));
  Table& ref = *t;
  tables_.emplace(name, std::move(t));
  return ref;
}

HistoryWriter::SeriesState& HistoryWriter::series(Table& t, std::string_view topic,
                                                  std::string_view key) {
  scratch_.assign(topic);
  scratch_ += '\x1f';
  scratch_.append(key);
  auto it = series_.find(scratch_);
  if (it != series_.end() && it->second.id != 0) return it->second;
  if (it == series_.end()) it = series_.emplace(scratch_, SeriesState{}).first;
  sqlite3_reset(insert_series_);
  sqlite3_bind_text(insert_series_, 1, topic.data(), static_cast<int>(topic.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(insert_series_, 2, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(insert_series_, 3, t.name.data(), static_cast<int>(t.name.size()),
                    SQLITE_TRANSIENT);
  if (sqlite3_step(insert_series_) != SQLITE_DONE) fail(db_, path_, "add series");
  it->second.id = sqlite3_last_insert_rowid(db_);
  return it->second;
}

void HistoryWriter::begin() {
  if (in_transaction_) return;
  exec("BEGIN");
  in_transaction_ = true;
}

void HistoryWriter::record_symbols(const std::vector<std::string>& names) {
  begin();
  exec("DELETE FROM _pf_symbols");
  Stmt s{prepare(db_, path_, "INSERT INTO _pf_symbols (position, name) VALUES (?, ?)")};
  for (std::size_t i = 0; i < names.size(); ++i) {
    sqlite3_reset(s.s);
    sqlite3_bind_int64(s.s, 1, static_cast<std::int64_t>(i));
    sqlite3_bind_text(s.s, 2, names[i].data(), static_cast<int>(names[i].size()), SQLITE_TRANSIENT);
    if (sqlite3_step(s.s) != SQLITE_DONE) fail(db_, path_, "record symbols");
  }
}

Status HistoryWriter::append(std::string_view topic, std::string_view key, std::string_view json,
                             Timestamp message_ts) {
  if (!topics_.empty() && std::find(topics_.begin(), topics_.end(), topic) == topics_.end())
    return reject(RejectKind::kUnknownTopic, fmt::format("topic '{}' is not recorded", topic));
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(json.data(), json.size()).get_object().get(object))
    return reject(RejectKind::kMalformed, fmt::format("{}: not a JSON object", topic));

  // Event time and key first: they identify the row.
  Timestamp ts = kNoTs;
  std::string key_text;
  std::string_view key_view = key;
  {
    simdjson::dom::element e;
    if (!object["ts"].get(e)) {
      std::int64_t v;
      if (e.get_int64().get(v))
        return reject(RejectKind::kNoEventTime, fmt::format("{}: 'ts' is not an integer", topic));
      ts = v;
    } else if (message_ts != 0) {
      ts = message_ts;
    } else {
      return reject(RejectKind::kNoEventTime, fmt::format("{}: no 'ts' field", topic));
    }
    std::string_view symbol;
    if (!object["symbol"].get(e) && !e.get_string().get(symbol)) {
      key_view = symbol;
    } else if (!object["pair"].get(e)) {
      std::int64_t pair;
      std::string_view pair_text;
      if (!e.get_int64().get(pair)) {
        key_text = std::to_string(pair);
        key_view = key_text;
      } else if (!e.get_string().get(pair_text)) {
        key_view = pair_text;
      }
    }
  }

  Table* tp;
  if (last_table_ && topic == last_topic_) {
    tp = last_table_;
  } else {
    auto found = table_of_topic_.find(std::string(topic));
    if (found == table_of_topic_.end()) {
      begin();
      tp = &table(table_for_topic(topic));
      table_of_topic_.emplace(std::string(topic), tp);
    } else {
      tp = found->second;
    }
    last_topic_.assign(topic);
    last_table_ = tp;
  }
  Table& t = *tp;

  // Validate and bind every field; the row is written only when all of them are fine.
  begin();
  if (t.insert) {
    sqlite3_reset(t.insert);
    sqlite3_clear_bindings(t.insert);
  }
  struct Value {
    int column;
    simdjson::dom::element element;
    ColumnKind kind;
  };
  thread_local std::vector<Value> values;
  values.clear();
  for (auto [field, element] : object) {
    // A null is an absent value: it neither makes a column nor fixes a column's kind.
    if (field == "ts" || element.type() == simdjson::dom::element_type::NULL_VALUE) continue;
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
    // Messages of a type repeat their fields in the same order: the column of the field at this
    // position last time is checked first (no lower-casing, no hashing).
    const std::size_t position = values.size();
    int column = -2;
    if (position < t.field_cache.size() && t.field_cache[position].first == field)
      column = t.field_cache[position].second;
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
      } else {
        column = it->second;
        if (t.columns[column] != field)
          return reject(RejectKind::kBadFieldName,
                        fmt::format("{}: field '{}' differs from column '{}' only in case", topic,
                                    field, t.columns[column]));
        if (t.field_cache.size() <= position) t.field_cache.resize(position + 1, {"", -2});
        t.field_cache[position] = {std::string(field), column};
      }
    }
    if (column >= 0) {
      ColumnKind have = t.kinds[column];
      const bool fits = kind == have || (have == ColumnKind::kReal && kind == ColumnKind::kInt) ||
                        (have == ColumnKind::kInt && kind == ColumnKind::kReal) ||
                        (have == ColumnKind::kJson && kind == ColumnKind::kJson);
      if (!fits)
        return reject(RejectKind::kTypeConflict,
                      fmt::format("{}: field '{}' is {}, earlier rows stored {}", topic, field,
                                  column_kind_name(kind), column_kind_name(have)));
    }
    values.push_back({column, element, kind});
  }
  for (std::size_t r = 0; r < t.required.size(); ++r) {
    simdjson::dom::element e;
    double v;
    if (object[t.required[r]].get(e) || e.get_double().get(v) || !std::isfinite(v))
      return reject(RejectKind::kBadNumber,
                    fmt::format("{}: field '{}' must be a finite number", topic, t.required[r]));
  }

  // New columns (the row is good).
  bool added = false;
  std::size_t i = 0;
  for (auto [field, element] : object) {
    if (field == "ts" || element.type() == simdjson::dom::element_type::NULL_VALUE) continue;
    Value& v = values[i++];
    if (v.column >= 0) {
      if (t.kinds[v.column] == ColumnKind::kInt && v.kind == ColumnKind::kReal) {
        t.kinds[v.column] = ColumnKind::kReal;  // widen
        Stmt s{
            prepare(db_, path_, "UPDATE _pf_columns SET kind = 'real' WHERE tbl = ? AND name = ?")};
        sqlite3_bind_text(s.s, 1, t.name.data(), static_cast<int>(t.name.size()), SQLITE_TRANSIENT);
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
    const ColumnKind kind = v.kind;
    run(db_, path_, fmt::format("ALTER TABLE {} ADD COLUMN {}", t.quoted, quote_identifier(field)));
    Stmt s{prepare(db_, path_,
                   "INSERT INTO _pf_columns (tbl, name, kind, position) VALUES (?, ?, ?, ?)")};
    sqlite3_bind_text(s.s, 1, t.name.data(), static_cast<int>(t.name.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s.s, 2, field.data(), static_cast<int>(field.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s.s, 3, column_kind_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_int(s.s, 4, column);
    if (sqlite3_step(s.s) != SQLITE_DONE) fail(db_, path_, "add column");
    t.columns.emplace_back(field);
    t.kinds.push_back(kind);
    t.index.emplace(std::move(name), column);
    for (std::size_t r = 0; r < t.required.size(); ++r)
      if (t.required[r] == field) t.required_columns[r] = column;
    v.column = column;
    added = true;
  }
  if (added || !t.insert) {
    sqlite3_finalize(t.insert);
    std::string sql =
        fmt::format("INSERT OR REPLACE INTO {} (_pf_series, ts, _pf_seq, _pf_arrival", t.quoted);
    for (const std::string& c : t.columns) sql += ", " + quote_identifier(c);
    sql += ") VALUES (?, ?, ?, ?";
    for (std::size_t c = 0; c < t.columns.size(); ++c) sql += ", ?";
    sql += ")";
    t.insert = prepare(db_, path_, sql);
  }

  SeriesState& s = series(t, topic, key_view);
  std::int64_t seq = 0;
  if (ts == s.last_ts) {
    seq = s.seq + 1;
  } else if (s.last_ts != kNoTs && ts < s.last_ts) {
    // Out of order within its series: after whatever that instant already holds.
    sqlite3_reset(t.max_seq);
    sqlite3_bind_int64(t.max_seq, 1, s.id);
    sqlite3_bind_int64(t.max_seq, 2, ts);
    if (sqlite3_step(t.max_seq) == SQLITE_ROW && sqlite3_column_type(t.max_seq, 0) != SQLITE_NULL)
      seq = sqlite3_column_int64(t.max_seq, 0) + 1;
  }
  if (ts >= s.last_ts || s.last_ts == kNoTs) {
    s.last_ts = ts;
    s.seq = seq;
  }

  sqlite3_stmt* st = t.insert;
  sqlite3_bind_int64(st, 1, s.id);
  sqlite3_bind_int64(st, 2, ts);
  sqlite3_bind_int64(st, 3, seq);
  sqlite3_bind_int64(st, 4, t.next_arrival++);
  for (const Value& v : values) {
    const int p = v.column + 5;
    const simdjson::dom::element& e = v.element;
    switch (e.type()) {
      case simdjson::dom::element_type::INT64: {
        std::int64_t x = 0;
        if (e.get_int64().get(x)) {
        }
        sqlite3_bind_int64(st, p, x);
        break;
      }
      case simdjson::dom::element_type::UINT64: {
        // Above int64's range (e.g. random 64-bit order ids): its exact digits, as text.
        std::uint64_t x = 0;
        if (e.get_uint64().get(x)) {
        }
        char digits[24];
        auto n = std::snprintf(digits, sizeof digits, "%llu", static_cast<unsigned long long>(x));
        sqlite3_bind_text(st, p, digits, n, SQLITE_TRANSIENT);
        break;
      }
      case simdjson::dom::element_type::DOUBLE: {
        double x = 0;
        if (e.get_double().get(x)) {
        }
        sqlite3_bind_double(st, p, x);
        break;
      }
      case simdjson::dom::element_type::STRING: {
        std::string_view x;
        if (e.get_string().get(x)) {
        }
        sqlite3_bind_text(st, p, x.data(), static_cast<int>(x.size()), SQLITE_STATIC);
        break;
      }
      case simdjson::dom::element_type::BOOL: {
        bool x = false;
        if (e.get_bool().get(x)) {
        }
        sqlite3_bind_int(st, p, x ? 1 : 0);
        break;
      }
      default: {
        std::string text = simdjson::minify(e);
        sqlite3_bind_text(st, p, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        break;
      }
    }
  }
  if (sqlite3_step(st) != SQLITE_DONE) fail(db_, path_, "insert into " + t.name);
  sqlite3_reset(st);
  if (ts > t.newest) t.newest = ts;
  crash_point("history_row");  // tests: kill -9 in the middle of a batch
  ++rows_;
  if (++pending_ >= options_.batch_rows) commit();
  return Status::success();
}

void HistoryWriter::apply_retention() {
  if (options_.retention <= 0) return;
  for (auto& [name, t] : tables_) {
    if (t->newest == kNoTs) continue;
    const Timestamp before = t->newest - options_.retention;
    if (t->pruned_before != kNoTs && before <= t->pruned_before) continue;
    Stmt s{prepare(db_, path_,
                   fmt::format("DELETE FROM {} WHERE _pf_series = ? AND ts < ?", t->quoted))};
    for (const auto& [id_key, state] : series_) {
      if (state.id == 0) continue;
      sqlite3_reset(s.s);
      sqlite3_bind_int64(s.s, 1, state.id);
      sqlite3_bind_int64(s.s, 2, before);
      if (sqlite3_step(s.s) != SQLITE_DONE) fail(db_, path_, "retention");
    }
    t->pruned_before = before;
  }
}

void HistoryWriter::commit() {
  if (!in_transaction_) return;
  apply_retention();
  Stmt s{prepare(db_, path_, "UPDATE _pf_tables SET next_arrival = ? WHERE tbl = ?")};
  for (auto& [name, t] : tables_) {
    sqlite3_reset(s.s);
    sqlite3_bind_int64(s.s, 1, t->next_arrival);
    sqlite3_bind_text(s.s, 2, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(s.s) != SQLITE_DONE) fail(db_, path_, "save arrival counter");
  }
  exec("COMMIT");
  in_transaction_ = false;
  pending_ = 0;
  ++commits_;
}

std::string HistoryWriter::snapshot() const {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("series").begin_object();
  for (const auto& [id_key, s] : series_) {
    if (s.last_ts == kNoTs) continue;
    w.key(id_key).begin_array().value(s.last_ts).value(s.seq).end_array();
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
    SeriesState& s = series_[std::string(id_key)];
    s.last_ts = last;
    s.seq = seq;
  }
}

// --- reader ----------------------------------------------------------------------------------

Cursor::Cursor(sqlite3_stmt* stmt, std::vector<ColumnInfo> columns, std::string path)
    : stmt_(stmt), columns_(std::move(columns)), path_(std::move(path)) {}
Cursor::~Cursor() { sqlite3_finalize(stmt_); }
Cursor::Cursor(Cursor&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      columns_(std::move(other.columns_)),
      path_(std::move(other.path_)) {}

bool Cursor::next() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw UserError(
      fmt::format("{}: history: read: {}", path_, sqlite3_errmsg(sqlite3_db_handle(stmt_))));
}
bool Cursor::is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
bool Cursor::is_real(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_FLOAT; }
std::int64_t Cursor::integer(int c) const { return sqlite3_column_int64(stmt_, c); }
double Cursor::real(int c) const { return sqlite3_column_double(stmt_, c); }
std::string_view Cursor::text(int c) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
  return p ? std::string_view(p, sqlite3_column_bytes(stmt_, c)) : std::string_view();
}

void Cursor::append_json(std::string& out) const {
  JsonWriter w(out);
  w.begin_object();
  for (int c = 0; c < static_cast<int>(columns_.size()); ++c) {
    const int type = sqlite3_column_type(stmt_, c);
    if (type == SQLITE_NULL) continue;
    w.key(columns_[c].name);
    switch (columns_[c].kind) {
      case ColumnKind::kBool:
        w.value(integer(c) != 0);
        break;
      case ColumnKind::kJson:
        w.raw(text(c));
        break;
      case ColumnKind::kText:
        w.value(text(c));
        break;
      case ColumnKind::kInt:
      case ColumnKind::kReal:
        if (type == SQLITE_INTEGER)
          w.value(integer(c));
        else if (type == SQLITE_FLOAT)
          w.value(real(c));
        else
          w.raw(text(c));  // the exact digits of an integer beyond int64
        break;
    }
  }
  w.end_object();
}

HistoryReader::HistoryReader(const std::string& path, bool writable) : path_(path) {
  std::error_code ec;
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
    Stmt s{prepare(db_, path_,
                   fmt::format("SELECT s.topic, count(*), count(DISTINCT s.id), min(t.ts), "
                               "max(t.ts) FROM {} t JOIN _pf_series s ON s.id = t._pf_series "
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
  bool known = false;
  {
    Stmt s{prepare(db_, path_, "SELECT 1 FROM _pf_series WHERE topic = ? LIMIT 1")};
    sqlite3_bind_text(s.s, 1, q.topic.data(), static_cast<int>(q.topic.size()), SQLITE_TRANSIENT);
    known = sqlite3_step(s.s) == SQLITE_ROW;
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
  std::string sql = "SELECT t.ts";
  for (std::size_t c = 1; c < columns.size(); ++c)
    sql += ", t." + quote_identifier(columns[c].name);
  sql += fmt::format(" FROM {} t", quote_identifier(table));
  if (q.key) {
    // One series: a range of the primary key, already in (ts, seq) order.
    sql +=
        " WHERE t._pf_series = (SELECT id FROM _pf_series WHERE topic = ?1 AND key = ?2)"
        " AND t.ts >= ?3 AND t.ts < ?4 ORDER BY t.ts, t._pf_seq";
  } else {
    sql +=
        " WHERE t._pf_series IN (SELECT id FROM _pf_series WHERE topic = ?1)"
        " AND t.ts >= ?3 AND t.ts < ?4 ORDER BY t.ts, t._pf_arrival";
  }
  if (q.limit > 0) sql += fmt::format(" LIMIT {}", q.limit);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
    fail(db_, path_, "query " + q.topic);
  sqlite3_bind_text(stmt, 1, q.topic.data(), static_cast<int>(q.topic.size()), SQLITE_TRANSIENT);
  if (q.key)
    sqlite3_bind_text(stmt, 2, q.key->data(), static_cast<int>(q.key->size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(stmt, 3, q.from);
  sqlite3_bind_int64(stmt, 4, q.to);
  return Cursor(stmt, std::move(columns), path_);
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
  std::uint64_t deleted = 0;
  Stmt series{prepare(db_, path_, "SELECT id, tbl, topic FROM _pf_series")};
  std::vector<std::tuple<std::int64_t, std::string>> todo;
  while (sqlite3_step(series.s) == SQLITE_ROW) {
    std::string t = reinterpret_cast<const char*>(sqlite3_column_text(series.s, 2));
    if (!topic.empty() && t != topic) continue;
    todo.emplace_back(sqlite3_column_int64(series.s, 0),
                      reinterpret_cast<const char*>(sqlite3_column_text(series.s, 1)));
  }
  for (const auto& [id, table] : todo) {
    Stmt del{prepare(
        db_, path_,
        fmt::format("DELETE FROM {} WHERE _pf_series = ? AND ts < ?", quote_identifier(table)))};
    sqlite3_bind_int64(del.s, 1, id);
    sqlite3_bind_int64(del.s, 2, before);
    if (sqlite3_step(del.s) != SQLITE_DONE) fail(db_, path_, "prune");
    deleted += static_cast<std::uint64_t>(sqlite3_changes(db_));
  }
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
          if (!null && !cursor.is_real(c) && sqlite3_column_type(cursor.stmt_, c) == SQLITE_TEXT &&
              !col.beyond_int64) {
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
