// The history store: every message of the topics a pipeline records, kept in one SQLite file for
// jobs, the dashboard and users' own tools (`pairflow history`, `pairflow.history()` in Python and
// R jobs, `backtest --from-history`).
//
// Layout (docs/history.md): one table per message type (ticks, bars, features, signals, orders,
// executions, positions, pnl, pair_pnl, pair_control, control, ...; a topic pairflow does not know
// gets a table named after it), never one per symbol or pair. A row is one JSON message: `ts` (its
// event time, ns) and one column per field, added when a field first appears. `series` interns
// (topic, key) pairs; the key is the message's `symbol`, else its `pair`, else the message key.
// Rows are identified by (series, ts, seq), seq counting messages of a series with the same event
// time, so writing the same stream again (a replay after a crash, a second recording of a
// session) overwrites rows instead of doubling them. WAL mode; a writer batches rows into
// transactions and commit() makes them durable (synchronous=FULL).
//
// Threads: a HistoryWriter or HistoryReader belongs to one thread at a time. Any number of readers
// may read a file while one writer writes it (WAL). A writer commits the full batches of append()
// on a thread of its own (WriterOptions::background_commit) while the caller parses the next
// batch; commit() waits for everything, so what it returns from is durable.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "base/symbols.h"
#include "base/time.h"
#include "model/messages.h"

struct sqlite3;
struct sqlite3_stmt;

namespace pairflow::history {

// The table a topic's messages are stored in: bars.1m -> bars, pairs.signals -> signals, a topic
// pairflow does not know -> its name with '.' and '-' as '_'.
std::string table_for_topic(std::string_view topic);

// Why a message was not stored; counted by the writer, named in dead letters.
enum class RejectKind : std::uint8_t {
  kMalformed,       // not a JSON object
  kNoEventTime,     // no integer `ts` field and no event time on the message
  kBadNumber,       // a required field missing, null, or not a finite number
  kStringTooLong,   // a string field longer than the limit
  kTypeConflict,    // a field whose type differs from what earlier rows stored
  kBadFieldName,    // empty, too long, reserved, or equal to another field but for case
  kTooManyColumns,  // more distinct fields in a table than the limit
  kUnknownTopic,    // a topic the writer was not told to record
  kCount
};
const char* reject_kind_name(RejectKind kind);

// The kind of a column, from the values stored in it (int widens to real).
enum class ColumnKind : std::uint8_t { kInt, kReal, kText, kBool, kJson };
const char* column_kind_name(ColumnKind kind);

struct WriterOptions {
  std::size_t batch_rows = 65536;  // a transaction is committed after this many rows
  Timestamp retention = 0;         // keep rows younger than this (event time); 0 = forever
  std::size_t max_string = 4096;   // bytes of one string field
  std::size_t max_columns = 256;   // fields per table
  bool full_sync = true;           // synchronous=FULL (durable across power loss) or NORMAL
  // A full batch is written and committed by the writer's own thread while append() goes on (at
  // most one batch in flight; its errors surface at the next append() or commit()). Off: append()
  // commits the batch itself.
  bool background_commit = true;
};

class HistoryWriter {
 public:
  // Opens (creates) the file. Throws UserError naming the path.
  HistoryWriter(const std::string& path, WriterOptions options = {});
  ~HistoryWriter();  // commits what is pending (errors are logged to stderr, not thrown)
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  // Stores one message (a JSON object). `message_ts` is its event time when the payload has no
  // `ts`; `key` is used when it has neither `symbol` nor `pair`. Not OK (and counted) when the
  // message is rejected; the status names the reason and the field.
  Status append(std::string_view topic, std::string_view key, std::string_view json,
                Timestamp message_ts = 0);
  // Makes every appended row durable and applies retention. Throws UserError when SQLite fails.
  void commit();

  // The symbols of a recorded run in their symbol-table order (replay rebuilds ids from them).
  void record_symbols(const std::vector<std::string>& names);

  std::uint64_t rows() const { return rows_; }  // stored (appended and accepted)
  // Rows skipped because the file already holds them (a replay of what was written before).
  std::uint64_t duplicates() const { return duplicates_; }
  std::uint64_t pending() const { return pending_; }  // not handed to a commit yet
  std::uint64_t commits() const { return commits_.load(); }
  std::uint64_t rejects(RejectKind kind) const { return rejects_[static_cast<int>(kind)]; }
  std::uint64_t rejects_total() const;
  const std::string& path() const { return path_; }

  // The writer's identity state (last event time and seq per series), as JSON: a job saves it
  // with its checkpoint so a replay from that checkpoint assigns the same seqs.
  std::string snapshot() const;
  void restore(std::string_view json);
  // Only these topics are accepted (empty = every topic).
  void restrict_topics(std::vector<std::string> topics);

 private:
  struct Table;
  struct Series;
  Table& table(const std::string& name);
  Series& series(Table& t, std::string_view topic, std::string_view key);
  void load_tail(Series& s);
  void load_view(Series& s);  // the appending thread's view of the series' stored rows
  Status reject(RejectKind kind, std::string detail);
  void begin();
  // Before the caller's thread touches the database: waits for the commit in flight, then opens
  // the transaction the next commit closes.
  void touch_db();
  void exec(const char* sql);
  // Hands the dirty series' rows to a commit (the worker's, or this thread's); `wait`: returns
  // once it is durable.
  void hand_off(bool wait);
  void wait_idle();    // no commit in flight; rethrows the worker's error
  void write_batch();  // the commit itself: blocks, retention, counters, COMMIT
  void worker_loop();
  void write_pending(Series& s);
  void apply_retention();

  std::string path_;
  WriterOptions options_;
  sqlite3* db_ = nullptr;
  std::map<std::string, std::unique_ptr<Table>, std::less<>> tables_;
  std::unordered_map<std::string, Table*> table_of_topic_;
  std::string last_topic_;
  Table* last_table_ = nullptr;
  std::map<std::string, std::unique_ptr<Series>, std::less<>> series_;  // "topic\x1fkey"
  std::unordered_map<std::string, Series*> series_index_;  // the same, for lookups by row
  std::vector<Series*> dirty_;                             // series with pending rows
  std::vector<std::string> topics_;
  sqlite3_stmt* insert_series_ = nullptr;
  bool in_transaction_ = false;
  std::uint64_t rows_ = 0, pending_ = 0, duplicates_ = 0;
  std::atomic<std::uint64_t> commits_{0};
  // The background commit: the worker owns the database, writing_ and the series' `writing`
  // blocks while busy_; this thread touches them only after wait_idle().
  std::vector<Series*> writing_;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  bool busy_ = false, stopping_ = false;
  std::exception_ptr error_;
  std::array<std::uint64_t, static_cast<int>(RejectKind::kCount)> rejects_{};
  std::string scratch_, encoded_;
};

struct TopicInfo {
  std::string topic, table;
  std::uint64_t rows = 0, keys = 0;
  Timestamp first = 0, last = 0;
};

struct ColumnInfo {
  std::string name;
  ColumnKind kind = ColumnKind::kReal;
};

struct Query {
  std::string topic;
  std::optional<std::string> key;  // a symbol or pair; all keys when absent
  Timestamp from = kMinTimestamp;  // inclusive
  Timestamp to = kMaxTimestamp;    // exclusive
  std::size_t limit = 0;           // 0 = every row
};

// Rows of one query, in event-time order (ties in the order they were recorded). Column 0 is
// `ts`; the others are the table's fields in the order they first appeared.
class Cursor {
 public:
  ~Cursor();
  Cursor(Cursor&&) noexcept;
  const std::vector<ColumnInfo>& columns() const { return columns_; }
  bool next();  // throws UserError on a read error
  bool is_null(int column) const;
  bool is_real(int column) const;  // stored as a floating-point number
  bool is_text(int column) const;  // stored as text (an integer column: digits beyond int64)
  std::int64_t integer(int column) const;
  double real(int column) const;
  std::string_view text(int column) const;
  // The row as a JSON object (`ts` first, then every non-null field): the message as recorded,
  // less its null fields.
  void append_json(std::string& out) const;

 private:
  friend class HistoryReader;
  struct Stream;
  Cursor(std::vector<ColumnInfo> columns, std::vector<std::unique_ptr<Stream>> streams,
         std::size_t limit);
  std::vector<ColumnInfo> columns_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::vector<Stream*> heap_;  // streams with a current row, ordered by (ts, arrival)
  Stream* current_ = nullptr;
  bool started_ = false;
  std::size_t limit_ = 0, returned_ = 0;
};

class HistoryReader {
 public:
  // Opens an existing file read-only (or read-write for prune). Throws UserError naming the path.
  explicit HistoryReader(const std::string& path, bool writable = false);
  ~HistoryReader();
  HistoryReader(const HistoryReader&) = delete;
  HistoryReader& operator=(const HistoryReader&) = delete;

  std::vector<TopicInfo> topics();
  // Throws UserError "unknown topic 'x' (stored: a, b)" for a topic with no rows.
  Cursor query(const Query& query);
  // The symbols of a recorded run, in symbol-table order (empty when none were recorded).
  std::vector<std::string> symbols();
  // Deletes rows with event time before `before` (of `topic`, or all topics); returns rows deleted.
  std::uint64_t prune(Timestamp before, const std::string& topic = "");
  // The newest event time stored (of `topic`, or all), nullopt when empty.
  std::optional<Timestamp> newest(const std::string& topic = "");

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// Recorded ticks (a `ticks`-like topic) as Ticks, in the order they were recorded: replay
// (`backtest --from-history`) and the warm-up of stateful jobs. Symbols are interned into the
// caller's table as they appear. Throws UserError (unknown topic, no price/size columns).
class TickReader {
 public:
  TickReader(const std::string& path, const Query& query);
  bool next(Tick& tick, SymbolTable& symbols);
  std::vector<std::string> recorded_symbols() { return reader_.symbols(); }

 private:
  HistoryReader reader_;
  std::optional<Cursor> cursor_;
  int symbol_ = -1, price_ = -1, size_ = -1, bid_ = -1, ask_ = -1, bid_size_ = -1, ask_size_ = -1;
};

// A query's rows as columns, for the Python and R hosts (pairflow.history() / pairflow_history()).
struct FrameColumn {
  std::string name;
  ColumnKind kind = ColumnKind::kReal;
  std::vector<std::int64_t> integer;  // kInt, kBool, and ts
  std::vector<double> real;           // kReal (NaN where null)
  std::vector<std::string> text;      // kText, kJson; kInt too when some value exceeds int64
  std::vector<std::uint8_t> null;     // 1 where the row has no value
  bool has_null = false;
  bool beyond_int64 = false;  // kInt: some values only fit as text (read `text`)
};
struct Frame {
  std::vector<FrameColumn> columns;  // columns[0] is ts
  std::size_t rows = 0;
};
Frame read_frame(const std::string& path, const Query& query);

// The history file a job reads: `explicit_path` when given, else $PAIRFLOW_HISTORY (set by a
// pipeline file's `history = FILE` and by `--history`). Throws UserError when there is none or
// the file does not exist.
std::string resolve_history_path(const std::string& explicit_path);

}  // namespace pairflow::history
