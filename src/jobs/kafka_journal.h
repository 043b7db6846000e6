// KafkaJournal: the execution job's order journal on a compacted Kafka topic, for the distributed
// placement, where the job may restart on another machine (exec/journal.h says what a journal
// guarantees). One message per order and per intent state change, keyed "order:<id>" /
// "intent:<id>", so compaction keeps the latest state of each; record() returns once the broker
// has acknowledged the write (acks=all, idempotent producer), before the order is sent.
// Start-up reads the topic to its end. Create the topic with cleanup.policy=compact and one
// partition. Single-threaded (the execution service).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/symbols.h"
#include "exec/journal.h"
#include "stream/kafka_transport.h"

namespace pairflow::jobs {

class KafkaJournal : public exec::OrderJournal {
 public:
  // Throws UserError when the topic is missing, unreadable or holds a record it cannot read.
  KafkaJournal(const std::string& brokers, const std::string& topic, SymbolTable& symbols);

  void record(const exec::OrderRecord& order) override;
  void record(const exec::IntentRecord& intent) override;
  std::vector<exec::OrderRecord> orders() override;
  std::vector<exec::IntentRecord> intents() override;

 private:
  std::string topic_;
  SymbolTable& symbols_;
  stream::KafkaSink producer_;
  std::map<std::uint64_t, exec::OrderRecord> orders_;
  std::map<std::uint64_t, exec::IntentRecord> intents_;
};

// The JSON of journal records (also what the topic holds).
std::string to_json(const exec::OrderRecord& r, const SymbolTable& symbols);
std::string to_json(const exec::IntentRecord& r, const SymbolTable& symbols);
Result<exec::OrderRecord> order_record_from_json(std::string_view json, SymbolTable& symbols);
Result<exec::IntentRecord> intent_record_from_json(std::string_view json, SymbolTable& symbols);

}  // namespace pairflow::jobs
