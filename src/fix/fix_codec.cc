#include "fix/fix_codec.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>

namespace pairflow::fix {
namespace {

Status bad(int tag, std::string_view name, std::string_view problem) {
  return Status(StatusCode::kParseError, fmt::format("{} ({}) {}", name, tag, problem));
}

Result<std::string_view> text_field(const FixMessage& m, int tag, std::string_view name) {
  const std::string* v = m.get(tag);
  if (!v) return bad(tag, name, "is missing");
  if (v->empty()) return bad(tag, name, "is empty");
  return std::string_view(*v);
}

Result<double> number_field(const FixMessage& m, int tag, std::string_view name,
                            bool optional = false, double fallback = 0) {
  const std::string* v = m.get(tag);
  if (!v) {
    if (optional) return fallback;
    return bad(tag, name, "is missing");
  }
  double out = 0;
  const char* end = v->data() + v->size();
  auto [ptr, ec] = std::from_chars(v->data(), end, out);
  if (ec != std::errc() || ptr != end || !std::isfinite(out))
    return bad(tag, name, fmt::format("is not a number: '{}'", *v));
  return out;
}

Result<std::uint64_t> id_of(std::string_view text, int tag, std::string_view name) {
  std::uint64_t id = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, id);
  if (ec != std::errc() || ptr != end)
    return bad(tag, name, fmt::format("is not a pairflow order id: '{}'", text));
  return id;
}

Result<std::uint64_t> id_field(const FixMessage& m, int tag, std::string_view name) {
  auto text = text_field(m, tag, name);
  if (!text) return text.status();
  return id_of(*text, tag, name);
}

Result<char> char_field(const FixMessage& m, int tag, std::string_view name,
                        std::string_view allowed) {
  auto text = text_field(m, tag, name);
  if (!text) return text.status();
  if (text->size() != 1 || allowed.find((*text)[0]) == std::string_view::npos)
    return bad(tag, name, fmt::format("has an unexpected value '{}'", *text));
  return (*text)[0];
}

Result<Timestamp> time_field(const FixMessage& m, bool optional) {
  const std::string* v = m.get(tag::kTransactTime);
  if (!v) {
    if (optional) return Timestamp{0};
    return bad(tag::kTransactTime, "TransactTime", "is missing");
  }
  auto t = parse_fix_time(*v);
  if (!t) return bad(tag::kTransactTime, "TransactTime", t.status().message());
  return *t;
}

std::string number(double v) { return fmt::format("{}", v); }

bool digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

int to_int(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

std::string format_fix_time(Timestamp ts) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<nanoseconds>(nanoseconds(ts)));
  const year_month_day ymd(day);
  const std::int64_t in_day = ts - duration_cast<nanoseconds>(day.time_since_epoch()).count();
  const std::int64_t s = in_day / 1'000'000'000, ns = in_day % 1'000'000'000;
  return fmt::format("{:04}{:02}{:02}-{:02}:{:02}:{:02}.{:09}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), s / 3600,
                     s / 60 % 60, s % 60, ns);
}

Result<Timestamp> parse_fix_time(std::string_view t) {
  // YYYYMMDD-HH:MM:SS[.fraction of 1 to 9 digits]
  const auto fail = [&] {
    return Status(StatusCode::kParseError,
                  fmt::format("is not a UTC timestamp YYYYMMDD-HH:MM:SS[.fff]: '{}'", t));
  };
  if (t.size() < 17 || t[8] != '-' || t[11] != ':' || t[14] != ':') return fail();
  if (!digits(t.substr(0, 8)) || !digits(t.substr(9, 2)) || !digits(t.substr(12, 2)) ||
      !digits(t.substr(15, 2)))
    return fail();
  using namespace std::chrono;
  const year_month_day ymd{year(to_int(t.substr(0, 4))), month(to_int(t.substr(4, 2))),
                           day(to_int(t.substr(6, 2)))};
  const int hh = to_int(t.substr(9, 2)), mm = to_int(t.substr(12, 2)), ss = to_int(t.substr(15, 2));
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 60) return fail();
  std::int64_t ns = 0;
  if (t.size() > 17) {
    if (t[17] != '.' || t.size() > 27 || !digits(t.substr(18))) return fail();
    const std::string_view frac = t.substr(18);
    ns = to_int(frac.substr(0, 9));
    for (std::size_t i = frac.size(); i < 9; ++i) ns *= 10;
  }
  const std::int64_t day_ns = duration_cast<nanoseconds>(sys_days(ymd).time_since_epoch()).count();
  return day_ns + ((hh * 60 + mm) * 60 + ss) * 1'000'000'000LL + ns;
}

FixMessage new_order_single(const Order& o, const SymbolTable& symbols,
                            const std::string& account) {
  FixMessage m;
  m.type = "D";
  m.add(tag::kClOrdId, std::to_string(o.client_order_id));
  if (!account.empty()) m.add(tag::kAccount, account);
  m.add(tag::kHandlInst, "1");
  m.add(tag::kSymbol, symbols.name(o.symbol));
  m.add(tag::kSide, o.side == Side::kBuy ? "1" : "2");
  m.add(tag::kTransactTime, format_fix_time(o.ts));
  m.add(tag::kOrderQty, number(o.qty));
  if (o.type == OrderType::kLimit) {
    m.add(tag::kOrdType, "2").add(tag::kPrice, number(o.limit)).add(tag::kTimeInForce, "0");
  } else {
    m.add(tag::kOrdType, "1").add(tag::kTimeInForce, "3");  // immediate or cancel
  }
  return m;
}

FixMessage order_cancel_request(const Order& o, const SymbolTable& symbols, Timestamp now) {
  FixMessage m;
  m.type = "F";
  m.add(tag::kOrigClOrdId, std::to_string(o.client_order_id));
  m.add(tag::kClOrdId, "C" + std::to_string(o.client_order_id));
  m.add(tag::kSymbol, symbols.name(o.symbol));
  m.add(tag::kSide, o.side == Side::kBuy ? "1" : "2");
  m.add(tag::kTransactTime, format_fix_time(now));
  m.add(tag::kOrderQty, number(o.qty));
  return m;
}

FixMessage order_status_request(const Order& o, const SymbolTable& symbols) {
  FixMessage m;
  m.type = "H";
  m.add(tag::kClOrdId, std::to_string(o.client_order_id));
  m.add(tag::kOrdStatusReqId, "S" + std::to_string(o.client_order_id));
  m.add(tag::kSymbol, symbols.name(o.symbol));
  m.add(tag::kSide, o.side == Side::kBuy ? "1" : "2");
  return m;
}

Result<Order> read_new_order(const FixMessage& m, SymbolTable& symbols) {
  Order o;
  auto id = id_field(m, tag::kClOrdId, "ClOrdID");
  if (!id) return id.status();
  o.client_order_id = *id;
  auto symbol = text_field(m, tag::kSymbol, "Symbol");
  if (!symbol) return symbol.status();
  auto side = char_field(m, tag::kSide, "Side", "12");
  if (!side) return side.status();
  o.side = *side == '1' ? Side::kBuy : Side::kSell;
  auto qty = number_field(m, tag::kOrderQty, "OrderQty");
  if (!qty) return qty.status();
  if (!(*qty > 0)) return bad(tag::kOrderQty, "OrderQty", "must be > 0");
  o.qty = *qty;
  auto type = char_field(m, tag::kOrdType, "OrdType", "12");
  if (!type) return type.status();
  o.type = *type == '1' ? OrderType::kMarket : OrderType::kLimit;
  if (o.type == OrderType::kLimit) {
    auto price = number_field(m, tag::kPrice, "Price");
    if (!price) return price.status();
    if (!(*price > 0)) return bad(tag::kPrice, "Price", "must be > 0");
    o.limit = *price;
  }
  auto ts = time_field(m, false);
  if (!ts) return ts.status();
  o.ts = *ts;
  o.symbol = symbols.intern(*symbol);
  return o;
}

Result<CancelRequest> read_cancel_request(const FixMessage& m) {
  CancelRequest c;
  auto id = id_field(m, tag::kOrigClOrdId, "OrigClOrdID");
  if (!id) return id.status();
  c.client_order_id = *id;
  auto cancel = text_field(m, tag::kClOrdId, "ClOrdID");
  if (!cancel) return cancel.status();
  c.cancel_id = std::string(*cancel);
  auto ts = time_field(m, false);
  if (!ts) return ts.status();
  c.ts = *ts;
  return c;
}

Result<std::uint64_t> read_status_request(const FixMessage& m) {
  return id_field(m, tag::kClOrdId, "ClOrdID");
}

Result<ExecReport> read_execution_report(const FixMessage& m) {
  ExecReport r;
  auto exec_type = char_field(m, tag::kExecType, "ExecType", "0F8C4I56D");
  if (!exec_type) return exec_type.status();
  r.exec_type = *exec_type;
  auto status = char_field(m, tag::kOrdStatus, "OrdStatus", "0123456789ABCDE");
  if (!status) return status.status();
  r.ord_status = *status;
  // A cancel's report names the cancel request in ClOrdID and the order in OrigClOrdID.
  const bool by_orig = r.exec_type == '4' && m.get(tag::kOrigClOrdId);
  auto id = by_orig ? id_field(m, tag::kOrigClOrdId, "OrigClOrdID")
                    : id_field(m, tag::kClOrdId, "ClOrdID");
  if (!id) return id.status();
  r.report.client_order_id = *id;
  auto exec_id = text_field(m, tag::kExecId, "ExecID");
  if (!exec_id) return exec_id.status();
  r.exec_id = std::string(*exec_id);
  auto cum = number_field(m, tag::kCumQty, "CumQty");
  if (!cum) return cum.status();
  auto leaves = number_field(m, tag::kLeavesQty, "LeavesQty");
  if (!leaves) return leaves.status();
  auto avg = number_field(m, tag::kAvgPx, "AvgPx", true, 0);
  if (!avg) return avg.status();
  if (*cum < 0 || *leaves < 0) return bad(tag::kCumQty, "CumQty", "or LeavesQty is negative");
  r.cum_qty = *cum;
  r.leaves_qty = *leaves;
  r.avg_px = *cum > 0 ? *avg : kNaN;
  auto fee = number_field(m, tag::kCommission, "Commission", true, 0);
  if (!fee) return fee.status();
  r.report.fee = *fee;
  auto ts = time_field(m, true);
  if (!ts) return ts.status();
  r.report.ts = *ts;
  if (const std::string* text = m.get(tag::kText)) r.report.reason = *text;
  if (const std::string* s = m.get(tag::kSymbol)) r.symbol = *s;
  if (const std::string* s = m.get(tag::kSide)) r.side = *s == "2" ? Side::kSell : Side::kBuy;
  const char os = r.ord_status;
  r.report.done = os == '2' || os == '4' || os == '8' || os == 'C';
  switch (r.exec_type) {
    case '0':
      r.report.kind = exec::ReportKind::kAck;
      break;
    case 'F': {
      r.report.kind = exec::ReportKind::kFill;
      auto qty = number_field(m, tag::kLastQty, "LastQty");
      if (!qty) return qty.status();
      auto px = number_field(m, tag::kLastPx, "LastPx");
      if (!px) return px.status();
      if (!(*qty > 0) || !(*px > 0)) return bad(tag::kLastQty, "LastQty", "or LastPx is not > 0");
      r.report.qty = *qty;
      r.report.price = *px;
      break;
    }
    case '8':
      r.report.kind = exec::ReportKind::kReject;
      r.report.done = true;
      if (r.report.reason.empty()) r.report.reason = "broker_reject";
      break;
    case '4':
      r.report.kind = exec::ReportKind::kCancelled;
      r.report.done = true;
      break;
    case 'C':
      r.report.kind = exec::ReportKind::kExpired;
      r.report.done = true;
      break;
    case 'I':
      r.status_answer = true;
      if (const std::string* reason = m.get(tag::kOrdRejReason); reason && *reason == "5")
        r.unknown_order = true;
      break;
    default:
      return bad(tag::kExecType, "ExecType", fmt::format("'{}' is not handled", r.exec_type));
  }
  return r;
}

Result<ExecReport> read_cancel_reject(const FixMessage& m) {
  ExecReport r;
  auto id = id_field(m, tag::kOrigClOrdId, "OrigClOrdID");
  if (!id) return id.status();
  r.report.client_order_id = *id;
  r.report.kind = exec::ReportKind::kCancelReject;
  auto status = char_field(m, tag::kOrdStatus, "OrdStatus", "0123456789ABCDE");
  if (!status) return status.status();
  r.ord_status = *status;
  auto ts = time_field(m, true);
  if (!ts) return ts.status();
  r.report.ts = *ts;
  const std::string* text = m.get(tag::kText);
  r.report.reason = text ? *text : "cancel_rejected";
  return r;
}

FixMessage execution_report(const ReportFields& f) {
  FixMessage m;
  m.type = "8";
  m.add(tag::kOrderId, f.order_id).add(tag::kExecId, f.exec_id);
  if (f.exec_type == '4' && !f.cancel_id.empty()) {
    m.add(tag::kClOrdId, f.cancel_id).add(tag::kOrigClOrdId, std::to_string(f.client_order_id));
  } else {
    m.add(tag::kClOrdId, std::to_string(f.client_order_id));
  }
  m.add(tag::kExecType, std::string(1, f.exec_type));
  m.add(tag::kOrdStatus, std::string(1, f.ord_status));
  if (f.reject_reason >= 0) m.add(tag::kOrdRejReason, std::to_string(f.reject_reason));
  m.add(tag::kSymbol, f.symbol.empty() ? "N/A" : f.symbol);
  m.add(tag::kSide, f.side == Side::kBuy ? "1" : "2");
  m.add(tag::kOrderQty, number(f.order_qty));
  if (f.exec_type == 'F')
    m.add(tag::kLastQty, number(f.last_qty)).add(tag::kLastPx, number(f.last_px));
  m.add(tag::kLeavesQty, number(f.leaves_qty)).add(tag::kCumQty, number(f.cum_qty));
  m.add(tag::kAvgPx, number(f.avg_px));
  if (f.commission != 0) m.add(tag::kCommission, number(f.commission)).add(tag::kCommType, "3");
  m.add(tag::kTransactTime, format_fix_time(f.ts));
  if (!f.text.empty()) m.add(tag::kText, f.text);
  return m;
}

FixMessage cancel_reject(std::uint64_t client_order_id, const std::string& cancel_id,
                         char ord_status, Timestamp ts, const std::string& text) {
  FixMessage m;
  m.type = "9";
  m.add(tag::kOrderId, std::to_string(client_order_id));
  m.add(tag::kClOrdId, cancel_id.empty() ? "C" + std::to_string(client_order_id) : cancel_id);
  m.add(tag::kOrigClOrdId, std::to_string(client_order_id));
  m.add(tag::kOrdStatus, std::string(1, ord_status));
  m.add(tag::kCxlRejResponseTo, "1");
  m.add(tag::kCxlRejReason, text == "unknown_order" ? "1" : "0");
  m.add(tag::kTransactTime, format_fix_time(ts));
  m.add(tag::kText, text);
  return m;
}

}  // namespace pairflow::fix
