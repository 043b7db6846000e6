#include "report/report.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>

#include "base/json_writer.h"

namespace pairflow::report {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDaysPerYear = 252.0;
constexpr Timestamp kDay = 86'400'000'000'000LL;

// Calls `row(object, line_number)` for every non-empty line of a JSON-lines file.
template <typename Row>
void read_lines(const std::string& path, Row row) {
  std::ifstream in(path);
  if (!in) throw UserError(fmt::format("{}: cannot open", path));
  simdjson::dom::parser parser;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc) || !doc.is_object())
      throw UserError(fmt::format("{}:{}: not a JSON object", path, number));
    row(doc.get_object().value_unsafe(), number);
  }
}

double number(simdjson::dom::object o, const char* key, const std::string& path, int line,
              bool null_is_nan = false) {
  simdjson::dom::element e;
  if (o[key].get(e)) throw UserError(fmt::format("{}:{}: no field '{}'", path, line, key));
  if (null_is_nan && e.is_null()) return kNaN;
  double v;
  if (e.is_int64()) return static_cast<double>(e.get_int64().value_unsafe());
  if (e.is_uint64()) return static_cast<double>(e.get_uint64().value_unsafe());
  if (e.get_double().get(v) || !std::isfinite(v))
    throw UserError(fmt::format("{}:{}: field '{}' is not a finite number", path, line, key));
  return v;
}

Timestamp timestamp(simdjson::dom::object o, const std::string& path, int line) {
  std::int64_t ts;
  if (o["ts"].get_int64().get(ts))
    throw UserError(
        fmt::format("{}:{}: field 'ts' is not an integer (ns since the epoch)", path, line));
  return ts;
}

std::string day_of(Timestamp ts) { return format_timestamp(ts).substr(0, 10); }

double mean(const std::vector<double>& v) {
  return v.empty() ? kNaN
                   : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double sample_std(const std::vector<double>& v) {
  if (v.size() < 2) return kNaN;
  const double m = mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

}  // namespace

RunData read_run(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir))
    throw UserError(
        fmt::format("{}: not a run directory (pairflow backtest --log-dir writes one)", dir));
  RunData run;
  const std::string pnl = (fs::path(dir) / "pnl.jsonl").string();
  if (!fs::exists(pnl))
    throw UserError(fmt::format("{}: no pnl.jsonl (pairflow backtest --log-dir writes it)", dir));
  read_lines(pnl, [&](simdjson::dom::object o, int line) {
    EquityPoint p;
    p.ts = timestamp(o, pnl, line);
    p.equity = number(o, "equity", pnl, line);
    p.net_pnl = number(o, "net_pnl", pnl, line);
    p.fees = number(o, "fees", pnl, line);
    if (!run.equity.empty() && p.ts < run.equity.back().ts)
      throw UserError(fmt::format("{}:{}: ts goes back in time", pnl, line));
    run.equity.push_back(p);
  });
  if (run.equity.empty()) throw UserError(fmt::format("{}: no rows", pnl));
  run.capital = run.equity.front().equity - run.equity.front().net_pnl;
  if (!(run.capital > 0))
    throw UserError(
        fmt::format("{}:1: the starting capital (equity - net_pnl) is not positive", pnl));
  const std::string executions = (fs::path(dir) / "executions.jsonl").string();
  if (fs::exists(executions)) {
    read_lines(executions, [&](simdjson::dom::object o, int line) {
      const double qty = number(o, "qty", executions, line);
      if (qty == 0) return;  // acknowledgements and cancels: no fill
      Fill f;
      f.ts = timestamp(o, executions, line);
      std::string_view symbol, side;
      if (o["symbol"].get_string().get(symbol) || o["side"].get_string().get(side))
        throw UserError(
            fmt::format("{}:{}: 'symbol' and 'side' must be strings", executions, line));
      if (side != "buy" && side != "sell")
        throw UserError(fmt::format("{}:{}: side must be 'buy' or 'sell'", executions, line));
      f.symbol = std::string(symbol);
      f.qty = side == "buy" ? qty : -qty;
      f.price = number(o, "price", executions, line);
      f.fee = number(o, "fee", executions, line);
      std::int64_t pair = -1;
      if (!o["pair"].get_int64().get(pair)) f.pair = pair;
      run.fills.push_back(f);
    });
  }
  const std::string summary = (fs::path(dir) / "summary.json").string();
  if (fs::exists(summary)) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.load(summary).get(doc) || !doc.is_object())
      throw UserError(fmt::format("{}: not a JSON object", summary));
    double v;
    if (!doc["ideal_net_pnl"].get_double().get(v)) run.ideal_net_pnl = v;
    if (!doc["realism_cost"].get_double().get(v)) run.realism_cost = v;
  }
  return run;
}

std::vector<RoundTrip> round_trips(const RunData& run) {
  struct Open {
    RoundTrip trip;
    std::map<std::string, double> position;
    bool open = false;
  };
  std::map<std::int64_t, Open> pairs;
  std::vector<RoundTrip> out;
  for (const Fill& f : run.fills) {
    if (f.pair < 0) continue;
    Open& o = pairs[f.pair];
    if (!o.open) {
      o = Open{};
      o.open = true;
      o.trip.pair = f.pair;
      o.trip.open = f.ts;
    }
    if (o.trip.legs.find(f.symbol) == std::string::npos)
      o.trip.legs += (o.trip.legs.empty() ? "" : "/") + f.symbol;
    o.position[f.symbol] += f.qty;
    o.trip.pnl -= f.qty * f.price + f.fee;
    o.trip.fees += f.fee;
    bool flat = true;
    for (const auto& [symbol, qty] : o.position) flat = flat && std::fabs(qty) < 1e-9;
    if (flat) {
      o.trip.close = f.ts;
      out.push_back(o.trip);
      o.open = false;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const RoundTrip& a, const RoundTrip& b) {
    return a.close != b.close ? a.close < b.close : a.pair < b.pair;
  });
  return out;
}

Metrics compute_metrics(const RunData& run, const std::vector<RoundTrip>& trips,
                        const ReportOptions& options) {
  Metrics m;
  const auto& eq = run.equity;
  // Daily returns: the last equity of each UTC day against the previous day's (the capital first).
  std::vector<double> daily;
  double previous = run.capital;
  for (std::size_t i = 0; i < eq.size(); ++i) {
    if (i + 1 < eq.size() && day_of(eq[i + 1].ts) == day_of(eq[i].ts)) continue;
    const double r = eq[i].equity / previous - 1.0;
    daily.push_back(r);
    m.daily_returns.emplace_back(day_of(eq[i].ts), r);
    previous = eq[i].equity;
  }
  m.days = static_cast<int>(daily.size());
  m.total_return = eq.back().equity / run.capital - 1.0;
  m.annual_return = std::pow(1.0 + m.total_return, kDaysPerYear / m.days) - 1.0;
  m.annual_volatility = sample_std(daily) * std::sqrt(kDaysPerYear);
  const double rf = std::pow(1.0 + options.risk_free, 1.0 / kDaysPerYear) - 1.0;
  std::vector<double> excess(daily.size());
  double downside = 0;
  for (std::size_t i = 0; i < daily.size(); ++i) {
    excess[i] = daily[i] - rf;
    downside += std::min(excess[i], 0.0) * std::min(excess[i], 0.0);
  }
  const double sd = sample_std(excess);
  m.sharpe = sd > 0 ? mean(excess) / sd * std::sqrt(kDaysPerYear) : kNaN;
  downside = daily.empty() ? 0 : std::sqrt(downside / static_cast<double>(daily.size()));
  m.sortino = downside > 0 ? mean(excess) / downside * std::sqrt(kDaysPerYear) : kNaN;

  // Drawdown over every slice, the capital as the first peak.
  double peak = run.capital;
  Timestamp peak_ts = eq.front().ts;
  bool under = false;
  for (const auto& p : eq) {
    if (p.equity >= peak) {
      if (under)
        m.max_drawdown_days =
            std::max(m.max_drawdown_days, static_cast<double>(p.ts - peak_ts) / kDay);
      peak = p.equity;
      peak_ts = p.ts;
      under = false;
    } else {
      under = true;
      m.max_drawdown = std::min(m.max_drawdown, p.equity / peak - 1.0);
    }
  }
  if (under)
    m.max_drawdown_days =
        std::max(m.max_drawdown_days, static_cast<double>(eq.back().ts - peak_ts) / kDay);
  m.calmar = m.max_drawdown < 0 ? m.annual_return / -m.max_drawdown : kNaN;

  m.trades = static_cast<int>(trips.size());
  double wins = 0, losses = 0, total = 0;
  int won = 0;
  for (const auto& t : trips) {
    total += t.pnl;
    if (t.pnl > 0) {
      wins += t.pnl;
      ++won;
    } else {
      losses -= t.pnl;
    }
  }
  m.win_rate = m.trades ? static_cast<double>(won) / m.trades : kNaN;
  m.profit_factor = losses > 0 ? wins / losses : kNaN;
  m.average_trade = m.trades ? total / m.trades : kNaN;

  double notional = 0;
  for (const auto& f : run.fills) notional += std::fabs(f.qty * f.price);
  m.turnover = notional / run.capital;
  // Exposure: the share of slices after which any position is open.
  std::map<std::string, double> position;
  std::size_t next = 0, open_slices = 0;
  int open_symbols = 0;
  for (const auto& p : eq) {
    for (; next < run.fills.size() && run.fills[next].ts <= p.ts; ++next) {
      double& q = position[run.fills[next].symbol];
      const bool was = std::fabs(q) > 1e-9;
      q += run.fills[next].qty;
      const bool is = std::fabs(q) > 1e-9;
      open_symbols += static_cast<int>(is) - static_cast<int>(was);
    }
    open_slices += open_symbols > 0;
  }
  m.exposure = static_cast<double>(open_slices) / static_cast<double>(eq.size());
  m.fees = eq.back().fees;
  m.net_pnl = eq.back().net_pnl;
  return m;
}

std::string metrics_json(const Metrics& m) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("days", m.days).field("total_return", m.total_return);
  w.field("annual_return", m.annual_return).field("annual_volatility", m.annual_volatility);
  w.field("sharpe", m.sharpe).field("sortino", m.sortino).field("calmar", m.calmar);
  w.field("max_drawdown", m.max_drawdown).field("max_drawdown_days", m.max_drawdown_days);
  w.field("trades", m.trades).field("win_rate", m.win_rate);
  w.field("profit_factor", m.profit_factor).field("average_trade", m.average_trade);
  w.field("turnover", m.turnover).field("exposure", m.exposure).field("fees", m.fees);
  w.field("net_pnl", m.net_pnl).key("daily_returns").begin_object();
  for (const auto& [day, r] : m.daily_returns) w.field(day, r);
  w.end_object().end_object();
  return out;
}

}  // namespace pairflow::report
