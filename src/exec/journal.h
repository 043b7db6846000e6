// OrderJournal: every order state change and every intent, written before the order leaves
// (write-ahead), so a process that dies at any point restarts knowing which orders may be at the
// broker. At start-up the execution service reconciles the journal with the broker's own record
// before it sends anything: an order the journal wrote but the broker never received is sent then
// (with the same client order id), one the broker has is adopted as it is there, and never is an
// order sent twice.
//
// SqliteJournal: one file, WAL, synchronous FULL (or NORMAL: durable against a process crash, not a
// power cut), one row per order and per intent, replaced on each change. Symbols are stored by
// name, so a journal outlives a run's symbol numbering. Single-threaded (the execution service).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/symbols.h"
#include "exec/order.h"

struct sqlite3;
struct sqlite3_stmt;

namespace pairflow::exec {

// An intent as the journal keeps it: its legs' targets and whether it is over.
struct IntentRecord {
  SpreadIntent intent;
  bool done = false;
  int attempts = 0;  // chases and unwinds sent so far
};

class OrderJournal {
 public:
  virtual ~OrderJournal() = default;
  // Durable when they return; throw UserError otherwise.
  virtual void record(const OrderRecord& order) = 0;
  virtual void record(const IntentRecord& intent) = 0;
  // The latest state of every order and intent.
  virtual std::vector<OrderRecord> orders() = 0;
  virtual std::vector<IntentRecord> intents() = 0;
};

class SqliteJournal : public OrderJournal {
 public:
  // Throws UserError naming the file when it cannot be opened.
  SqliteJournal(const std::string& path, SymbolTable& symbols, bool full_sync = true);
  ~SqliteJournal() override;
  SqliteJournal(const SqliteJournal&) = delete;
  SqliteJournal& operator=(const SqliteJournal&) = delete;

  void record(const OrderRecord& order) override;
  void record(const IntentRecord& intent) override;
  std::vector<OrderRecord> orders() override;
  std::vector<IntentRecord> intents() override;
  const std::string& path() const { return path_; }

 private:
  void exec(const char* sql);
  std::string path_;
  SymbolTable& symbols_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* put_order_ = nullptr;
  sqlite3_stmt* put_intent_ = nullptr;
};

}  // namespace pairflow::exec
