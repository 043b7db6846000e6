#include "exec/journal.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cmath>

#include "base/status.h"

namespace pairflow::exec {
namespace {

double or_nan(sqlite3_stmt* st, int col) {
  return sqlite3_column_type(st, col) == SQLITE_NULL ? kNaN : sqlite3_column_double(st, col);
}

void bind_double(sqlite3_stmt* st, int i, double v) {
  if (std::isfinite(v)) {
    sqlite3_bind_double(st, i, v);
  } else {
    sqlite3_bind_null(st, i);
  }
}

}  // namespace

SqliteJournal::SqliteJournal(const std::string& path, SymbolTable& symbols, bool full_sync)
    : path_(path), symbols_(symbols) {
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw UserError(fmt::format("{}: cannot open the order journal: {}", path, message));
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec(full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec(
        "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, intent INTEGER NOT NULL, "
        "role INTEGER NOT NULL, pair INTEGER NOT NULL, ts INTEGER NOT NULL, symbol TEXT NOT NULL, "
        "side INTEGER NOT NULL, qty REAL NOT NULL, type INTEGER NOT NULL, lim REAL, "
        "status INTEGER NOT NULL, filled REAL NOT NULL, avg_price REAL, fees REAL NOT NULL, "
        "ideal REAL, updated INTEGER NOT NULL, reason TEXT NOT NULL)");
    exec(
        "CREATE TABLE IF NOT EXISTS intents (id INTEGER PRIMARY KEY, pair INTEGER NOT NULL, "
        "ts INTEGER NOT NULL, kind INTEGER NOT NULL, y TEXT NOT NULL, y_qty REAL NOT NULL, "
        "x TEXT NOT NULL, x_qty REAL NOT NULL, done INTEGER NOT NULL, attempts INTEGER NOT NULL)");
    if (sqlite3_prepare_v2(db_,
                           "INSERT OR REPLACE INTO orders VALUES "
                           "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &put_order_, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO intents VALUES (?,?,?,?,?,?,?,?,?,?)", -1,
                           &put_intent_, nullptr) != SQLITE_OK) {
      throw UserError(fmt::format("{}: order journal: {}", path_, sqlite3_errmsg(db_)));
    }
  } catch (...) {
    sqlite3_finalize(put_order_);
    sqlite3_finalize(put_intent_);
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteJournal::~SqliteJournal() {
  sqlite3_finalize(put_order_);
  sqlite3_finalize(put_intent_);
  if (db_) sqlite3_close(db_);
}

void SqliteJournal::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw UserError(fmt::format("{}: order journal: {}", path_, message));
  }
}

void SqliteJournal::record(const OrderRecord& r) {
  sqlite3_stmt* st = put_order_;
  sqlite3_reset(st);
  const Order& o = r.order;
  sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(o.client_order_id));
  sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(r.intent));
  sqlite3_bind_int(st, 3, static_cast<int>(r.role));
  sqlite3_bind_int64(st, 4, static_cast<sqlite3_int64>(o.pair));
  sqlite3_bind_int64(st, 5, o.ts);
  const std::string& name = symbols_.name(o.symbol);
  sqlite3_bind_text(st, 6, name.c_str(), static_cast<int>(name.size()), SQLITE_STATIC);
  sqlite3_bind_int(st, 7, static_cast<int>(o.side));
  sqlite3_bind_double(st, 8, o.qty);
  sqlite3_bind_int(st, 9, static_cast<int>(o.type));
  bind_double(st, 10, o.limit);
  sqlite3_bind_int(st, 11, static_cast<int>(r.status));
  sqlite3_bind_double(st, 12, r.filled);
  bind_double(st, 13, r.avg_price);
  sqlite3_bind_double(st, 14, r.fees);
  bind_double(st, 15, r.ideal_price);
  sqlite3_bind_int64(st, 16, r.updated);
  sqlite3_bind_text(st, 17, r.reason.c_str(), static_cast<int>(r.reason.size()), SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_DONE)
    throw UserError(
        fmt::format("{}: writing the order journal failed: {}", path_, sqlite3_errmsg(db_)));
}

void SqliteJournal::record(const IntentRecord& r) {
  sqlite3_stmt* st = put_intent_;
  sqlite3_reset(st);
  const SpreadIntent& i = r.intent;
  sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(i.id));
  sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(i.pair));
  sqlite3_bind_int64(st, 3, i.ts);
  sqlite3_bind_int(st, 4, static_cast<int>(i.kind));
  const std::string& y = symbols_.name(i.y.symbol);
  const std::string& x = symbols_.name(i.x.symbol);
  sqlite3_bind_text(st, 5, y.c_str(), static_cast<int>(y.size()), SQLITE_STATIC);
  sqlite3_bind_double(st, 6, i.y.qty);
  sqlite3_bind_text(st, 7, x.c_str(), static_cast<int>(x.size()), SQLITE_STATIC);
  sqlite3_bind_double(st, 8, i.x.qty);
  sqlite3_bind_int(st, 9, r.done ? 1 : 0);
  sqlite3_bind_int(st, 10, r.attempts);
  if (sqlite3_step(st) != SQLITE_DONE)
    throw UserError(
        fmt::format("{}: writing the order journal failed: {}", path_, sqlite3_errmsg(db_)));
}

std::vector<OrderRecord> SqliteJournal::orders() {
  std::vector<OrderRecord> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT * FROM orders ORDER BY id", -1, &st, nullptr) != SQLITE_OK)
    throw UserError(fmt::format("{}: order journal: {}", path_, sqlite3_errmsg(db_)));
  while (sqlite3_step(st) == SQLITE_ROW) {
    OrderRecord r;
    Order& o = r.order;
    o.client_order_id = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
    r.intent = static_cast<std::uint64_t>(sqlite3_column_int64(st, 1));
    r.role = static_cast<LegRole>(sqlite3_column_int(st, 2));
    o.pair = static_cast<PairId>(sqlite3_column_int64(st, 3));
    o.ts = sqlite3_column_int64(st, 4);
    o.symbol = symbols_.intern(reinterpret_cast<const char*>(sqlite3_column_text(st, 5)));
    o.side = static_cast<Side>(sqlite3_column_int(st, 6));
    o.qty = sqlite3_column_double(st, 7);
    o.type = static_cast<OrderType>(sqlite3_column_int(st, 8));
    o.limit = or_nan(st, 9);
    r.status = static_cast<OrderStatus>(sqlite3_column_int(st, 10));
    r.filled = sqlite3_column_double(st, 11);
    r.avg_price = or_nan(st, 12);
    r.fees = sqlite3_column_double(st, 13);
    r.ideal_price = or_nan(st, 14);
    r.updated = sqlite3_column_int64(st, 15);
    r.reason = reinterpret_cast<const char*>(sqlite3_column_text(st, 16));
    out.push_back(std::move(r));
  }
  sqlite3_finalize(st);
  return out;
}

std::vector<IntentRecord> SqliteJournal::intents() {
  std::vector<IntentRecord> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT * FROM intents ORDER BY ts, id", -1, &st, nullptr) !=
      SQLITE_OK)
    throw UserError(fmt::format("{}: order journal: {}", path_, sqlite3_errmsg(db_)));
  while (sqlite3_step(st) == SQLITE_ROW) {
    IntentRecord r;
    SpreadIntent& i = r.intent;
    i.id = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
    i.pair = static_cast<PairId>(sqlite3_column_int64(st, 1));
    i.ts = sqlite3_column_int64(st, 2);
    i.kind = static_cast<IntentKind>(sqlite3_column_int(st, 3));
    i.y.symbol = symbols_.intern(reinterpret_cast<const char*>(sqlite3_column_text(st, 4)));
    i.y.qty = sqlite3_column_double(st, 5);
    i.x.symbol = symbols_.intern(reinterpret_cast<const char*>(sqlite3_column_text(st, 6)));
    i.x.qty = sqlite3_column_double(st, 7);
    r.done = sqlite3_column_int(st, 8) != 0;
    r.attempts = sqlite3_column_int(st, 9);
    out.push_back(r);
  }
  sqlite3_finalize(st);
  return out;
}

}  // namespace pairflow::exec
