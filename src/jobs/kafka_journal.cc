#include "jobs/kafka_journal.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>

#include "base/json_writer.h"

namespace pairflow::jobs {
namespace {

Status bad(std::string_view what) {
  return Status(StatusCode::kParseError, fmt::format("journal record: {}", what));
}

// Numbers that may be NaN (an order's limit, an average price before any fill) travel as null.
void number(JsonWriter& w, const char* key, double v) {
  if (std::isfinite(v)) {
    w.field(key, v);
  } else {
    w.key(key).null();
  }
}

struct Reader {
  simdjson::dom::object obj;
  Status status = Status::success();
  double number(const char* key) {
    simdjson::dom::element e;
    if (obj[key].get(e)) {
      fail(key);
      return 0;
    }
    if (e.is_null()) return kNaN;
    double v = 0;
    if (e.get_double().get(v)) fail(key);
    return v;
  }
  std::int64_t integer(const char* key) {
    std::int64_t v = 0;
    if (obj[key].get_int64().get(v)) fail(key);
    return v;
  }
  std::uint64_t id(const char* key) {
    std::uint64_t v = 0;
    if (obj[key].get_uint64().get(v)) fail(key);
    return v;
  }
  std::string_view text(const char* key) {
    std::string_view v;
    if (obj[key].get_string().get(v)) fail(key);
    return v;
  }
  void fail(const char* key) {
    if (status) status = bad(fmt::format("field '{}' is missing or of the wrong type", key));
  }
};

Result<simdjson::dom::object> parse(simdjson::dom::parser& parser, std::string_view json) {
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return bad("not JSON");
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return bad("not a JSON object");
  return obj;
}

}  // namespace

std::string to_json(const exec::OrderRecord& r, const SymbolTable& symbols) {
  std::string out;
  JsonWriter w(out);
  const Order& o = r.order;
  w.begin_object().field("id", o.client_order_id).field("ts", o.ts);
  w.field("symbol", symbols.name(o.symbol)).field("side", static_cast<int>(o.side));
  w.field("qty", o.qty).field("type", static_cast<int>(o.type));
  number(w, "limit", o.limit);
  w.field("pair", static_cast<std::int64_t>(o.pair == kNoPair ? -1 : o.pair));
  w.field("intent", r.intent).field("role", static_cast<int>(r.role));
  w.field("status", static_cast<int>(r.status)).field("filled", r.filled);
  number(w, "avg_price", r.avg_price);
  w.field("fees", r.fees);
  number(w, "ideal_price", r.ideal_price);
  w.field("updated", r.updated).field("reason", r.reason).end_object();
  return out;
}

std::string to_json(const exec::IntentRecord& r, const SymbolTable& symbols) {
  std::string out;
  JsonWriter w(out);
  const exec::SpreadIntent& i = r.intent;
  w.begin_object().field("id", i.id).field("pair", static_cast<std::int64_t>(i.pair));
  w.field("ts", i.ts).field("kind", static_cast<int>(i.kind));
  w.field("y", symbols.name(i.y.symbol)).field("y_qty", i.y.qty);
  w.field("x", symbols.name(i.x.symbol)).field("x_qty", i.x.qty);
  number(w, "hedge_ratio", i.hedge_ratio);
  w.field("done", r.done).field("attempts", r.attempts).end_object();
  return out;
}

Result<exec::OrderRecord> order_record_from_json(std::string_view json, SymbolTable& symbols) {
  simdjson::dom::parser parser;
  auto obj = parse(parser, json);
  if (!obj) return obj.status();
  Reader in{*obj};
  exec::OrderRecord r;
  Order& o = r.order;
  o.client_order_id = in.id("id");
  o.ts = in.integer("ts");
  const std::string_view symbol = in.text("symbol");
  const std::int64_t side = in.integer("side"), type = in.integer("type");
  o.qty = in.number("qty");
  o.limit = in.number("limit");
  const std::int64_t pair = in.integer("pair");
  r.intent = in.id("intent");
  const std::int64_t role = in.integer("role"), status = in.integer("status");
  r.filled = in.number("filled");
  r.avg_price = in.number("avg_price");
  r.fees = in.number("fees");
  r.ideal_price = in.number("ideal_price");
  r.updated = in.integer("updated");
  r.reason = std::string(in.text("reason"));
  if (!in.status) return in.status;
  if (symbol.empty() || side < 0 || side > 1 || type < 0 || type > 1 || role < 0 || role > 3 ||
      status < 0 || status > static_cast<int>(exec::OrderStatus::kExpired) || pair < -1)
    return bad("a field is out of range");
  o.symbol = symbols.intern(symbol);
  o.side = static_cast<Side>(side);
  o.type = static_cast<OrderType>(type);
  o.pair = pair < 0 ? kNoPair : static_cast<PairId>(pair);
  r.role = static_cast<exec::LegRole>(role);
  r.status = static_cast<exec::OrderStatus>(status);
  return r;
}

Result<exec::IntentRecord> intent_record_from_json(std::string_view json, SymbolTable& symbols) {
  simdjson::dom::parser parser;
  auto obj = parse(parser, json);
  if (!obj) return obj.status();
  Reader in{*obj};
  exec::IntentRecord r;
  exec::SpreadIntent& i = r.intent;
  i.id = in.id("id");
  const std::int64_t pair = in.integer("pair");
  i.ts = in.integer("ts");
  const std::int64_t kind = in.integer("kind");
  const std::string_view y = in.text("y"), x = in.text("x");
  i.y.qty = in.number("y_qty");
  i.x.qty = in.number("x_qty");
  i.hedge_ratio = in.number("hedge_ratio");
  bool done = false;
  if (in.obj["done"].get_bool().get(done)) in.fail("done");
  r.done = done;
  r.attempts = static_cast<int>(in.integer("attempts"));
  if (!in.status) return in.status;
  if (pair < 0 || kind < 0 || kind > 2 || y.empty() || x.empty())
    return bad("a field is out of range");
  i.pair = static_cast<PairId>(pair);
  i.kind = static_cast<exec::IntentKind>(kind);
  i.y.symbol = symbols.intern(y);
  i.x.symbol = symbols.intern(x);
  return r;
}

KafkaJournal::KafkaJournal(const std::string& brokers, const std::string& topic,
                           SymbolTable& symbols)
    : topic_(topic), symbols_(symbols), producer_(brokers) {
  producer_.require_topics({topic_});
  stream::read_topic(
      brokers, topic_, "order journal", [&](std::string_view key, const std::string_view* payload) {
        if (!payload) return;
        auto fail = [&](const Status& s) {
          throw UserError(
              fmt::format("kafka: order journal topic '{}': {}: {}", topic_, key, s.message()));
        };
        if (key.starts_with("order:")) {
          auto r = order_record_from_json(*payload, symbols_);
          if (!r) fail(r.status());
          orders_[r->order.client_order_id] = std::move(*r);
        } else if (key.starts_with("intent:")) {
          auto r = intent_record_from_json(*payload, symbols_);
          if (!r) fail(r.status());
          intents_[r->intent.id] = std::move(*r);
        }
      });
}

void KafkaJournal::record(const exec::OrderRecord& order) {
  producer_.produce(topic_, fmt::format("order:{}", order.order.client_order_id),
                    to_json(order, symbols_));
  producer_.flush();  // durable before the order leaves
  orders_[order.order.client_order_id] = order;
}

void KafkaJournal::record(const exec::IntentRecord& intent) {
  producer_.produce(topic_, fmt::format("intent:{}", intent.intent.id), to_json(intent, symbols_));
  producer_.flush();
  intents_[intent.intent.id] = intent;
}

std::vector<exec::OrderRecord> KafkaJournal::orders() {
  std::vector<exec::OrderRecord> out;
  for (const auto& [id, r] : orders_) out.push_back(r);
  return out;
}

std::vector<exec::IntentRecord> KafkaJournal::intents() {
  std::vector<exec::IntentRecord> out;
  for (const auto& [id, r] : intents_) out.push_back(r);
  return out;
}

}  // namespace pairflow::jobs
