// The HTML of a report: inline CSS and SVG only, so the file opens anywhere without a network, and
// fixed number formatting, so the same run gives the same bytes.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "report/report.h"

namespace pairflow::report {

namespace {

constexpr int kWidth = 900, kHeight = 220, kMaxPoints = 1500;

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string pct(double v) { return std::isfinite(v) ? fmt::format("{:.2f} %", 100 * v) : "n/a"; }
std::string num(double v, int digits = 2) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "n/a";
}

// A line chart of y over the slices, downsampled by a fixed stride (the last point kept).
std::string chart(const std::string& title, const std::vector<Timestamp>& ts,
                  const std::vector<double>& y, const char* colour, bool fill_below_zero) {
  std::vector<std::size_t> idx;
  const std::size_t n = y.size();
  const std::size_t stride = std::max<std::size_t>(1, (n + kMaxPoints - 1) / kMaxPoints);
  for (std::size_t i = 0; i < n; i += stride)
    if (std::isfinite(y[i])) idx.push_back(i);
  if (n > 0 && std::isfinite(y[n - 1]) && (idx.empty() || idx.back() != n - 1))
    idx.push_back(n - 1);
  std::string out = fmt::format("<h3>{}</h3>\n", escape(title));
  if (idx.size() < 2) return out + "<p class=\"note\">not enough data</p>\n";
  double lo = y[idx[0]], hi = y[idx[0]];
  for (auto i : idx) {
    lo = std::min(lo, y[i]);
    hi = std::max(hi, y[i]);
  }
  if (fill_below_zero) hi = std::max(hi, 0.0);
  if (hi == lo) hi = lo + 1;
  // x by slice, not by clock time: nights and weekends take no width.
  const double i0 = static_cast<double>(idx.front()), span = static_cast<double>(idx.back()) - i0;
  auto px = [&](std::size_t i) {
    return 50 + (static_cast<double>(i) - i0) / span * (kWidth - 60);
  };
  auto py = [&](double v) { return 10 + (hi - v) / (hi - lo) * (kHeight - 40); };
  std::string points;
  for (auto i : idx) points += fmt::format("{:.1f},{:.1f} ", px(i), py(y[i]));
  points.pop_back();
  out += fmt::format("<svg width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\">\n",
                     kWidth, kHeight, kWidth, kHeight);
  out += fmt::format("<line x1=\"50\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" class=\"axis\"/>\n",
                     py(lo), kWidth - 10, py(lo));
  if (fill_below_zero)
    out += fmt::format(
        "<polygon points=\"{:.1f},{:.1f} {} {:.1f},{:.1f}\" fill=\"{}\" fill-opacity=\"0.3\"/>\n",
        px(idx.front()), py(0), points, px(idx.back()), py(0), colour);
  out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.2\"/>\n",
                     points, colour);
  out += fmt::format("<text x=\"2\" y=\"{:.1f}\">{}</text>\n", py(hi) + 4, num(hi, 4));
  out += fmt::format("<text x=\"2\" y=\"{:.1f}\">{}</text>\n", py(lo), num(lo, 4));
  out += fmt::format("<text x=\"50\" y=\"{}\">{}</text>\n", kHeight - 8,
                     format_timestamp(ts[idx.front()]).substr(0, 16));
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", kWidth - 10,
                     kHeight - 8, format_timestamp(ts[idx.back()]).substr(0, 16));
  return out + "</svg>\n";
}

std::string cell(double r) {
  // Green for gains, red for losses, the shade growing with the size (saturating at 2 %).
  const double a = std::min(1.0, std::fabs(r) / 0.02);
  const char* rgb = r >= 0 ? "34,139,34" : "200,40,40";
  return fmt::format("<td style=\"background:rgba({},{:.2f})\">{:.2f}</td>", rgb, 0.15 + 0.65 * a,
                     100 * r);
}

}  // namespace

std::string render_html(const RunData& run, const std::vector<RoundTrip>& trips, const Metrics& m,
                        const ReportOptions& options) {
  const auto& eq = run.equity;
  std::string h;
  h += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += fmt::format("<title>{}</title>\n", escape(options.title));
  h += "<style>\nbody{font-family:sans-serif;margin:24px;color:#222;max-width:960px}\n"
       "table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;"
       "padding:3px 8px;text-align:right;font-size:13px}th{background:#f3f3f3}\n"
       "td.l,th.l{text-align:left}svg text{font-size:11px;fill:#555}.axis{stroke:#bbb}\n"
       "table.days td,table.days th{padding:2px 3px;font-size:10px}\n"
       ".note{color:#777;font-size:13px}\n</style>\n</head>\n<body>\n";
  h += fmt::format("<h1>{}</h1>\n", escape(options.title));
  h += fmt::format("<p>{} to {}: {} slices, {} trading day{}, starting capital {:.2f}</p>\n",
                   format_timestamp(eq.front().ts), format_timestamp(eq.back().ts), eq.size(),
                   m.days, m.days == 1 ? "" : "s", run.capital);

  h += "<h2>Metrics</h2>\n<table>\n";
  auto row = [&](const char* name, const std::string& value) {
    h += fmt::format("<tr><th class=\"l\">{}</th><td>{}</td></tr>\n", name, value);
  };
  row("net P&amp;L", num(m.net_pnl));
  row("total return", pct(m.total_return));
  row("annualised return", pct(m.annual_return));
  row("annualised volatility", pct(m.annual_volatility));
  row(fmt::format("Sharpe ratio (risk-free {})", pct(options.risk_free)).c_str(), num(m.sharpe));
  row("Sortino ratio", num(m.sortino));
  row("Calmar ratio", num(m.calmar));
  row("maximum drawdown", pct(m.max_drawdown));
  row("longest drawdown", fmt::format("{} days", num(m.max_drawdown_days, 3)));
  row("round trips", std::to_string(m.trades));
  row("win rate", pct(m.win_rate));
  row("profit factor", num(m.profit_factor));
  row("average round trip", num(m.average_trade));
  row("turnover (notional / capital)", num(m.turnover));
  row("exposure (time with a position)", pct(m.exposure));
  row("fees", num(m.fees));
  if (run.ideal_net_pnl) {
    row("net P&amp;L with ideal fills", num(*run.ideal_net_pnl));
    row("cost of realism (ideal - modelled)", num(run.realism_cost.value_or(0)));
  }
  h += "</table>\n";

  std::vector<Timestamp> ts(eq.size());
  std::vector<double> equity(eq.size()), underwater(eq.size()),
      rolling(eq.size(), std::numeric_limits<double>::quiet_NaN());
  double peak = run.capital;
  for (std::size_t i = 0; i < eq.size(); ++i) {
    ts[i] = eq[i].ts;
    equity[i] = eq[i].equity;
    peak = std::max(peak, eq[i].equity);
    underwater[i] = eq[i].equity / peak - 1.0;
  }
  // Rolling Sharpe of per-slice returns over the window, annualised by the slices per year the
  // median spacing implies (252 days of 6.5 hours).
  if (eq.size() > 2) {
    std::vector<Timestamp> gaps;
    for (std::size_t i = 1; i < eq.size(); ++i) gaps.push_back(eq[i].ts - eq[i - 1].ts);
    std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
    const double spacing = std::max<double>(1.0, static_cast<double>(gaps[gaps.size() / 2]));
    const double per_year = 252.0 * 6.5 * 3600e9 / spacing;
    const std::size_t w = static_cast<std::size_t>(std::max(2, options.rolling_window));
    std::vector<double> r(eq.size(), 0.0);
    for (std::size_t i = 1; i < eq.size(); ++i) r[i] = eq[i].equity / eq[i - 1].equity - 1.0;
    double s = 0, ss = 0;
    for (std::size_t i = 1; i < eq.size(); ++i) {
      s += r[i];
      ss += r[i] * r[i];
      if (i > w) {
        s -= r[i - w];
        ss -= r[i - w] * r[i - w];
      }
      if (i >= w) {
        const double mu = s / w, var = (ss - w * mu * mu) / (w - 1);
        rolling[i] = var > 1e-30 ? mu / std::sqrt(var) * std::sqrt(per_year)
                                 : std::numeric_limits<double>::quiet_NaN();
      }
    }
  }
  h += "<h2>Equity and drawdown</h2>\n";
  h += chart("equity", ts, equity, "#1f5fa8", false);
  h += chart("drawdown from the running peak (underwater)", ts, underwater, "#c83030", true);
  h += chart(fmt::format("rolling Sharpe ratio ({} slices, annualised)", options.rolling_window),
             ts, rolling, "#555", false);

  // Returns heat maps: daily (a row per month) and monthly (a row per year), in percent.
  using Grid = std::map<std::string, std::map<int, double>>;
  Grid by_month, by_year;
  for (const auto& [day, r] : m.daily_returns) {
    by_month[day.substr(0, 7)][std::stoi(day.substr(8, 2))] = r;
    auto& month = by_year[day.substr(0, 4)][std::stoi(day.substr(5, 2))];
    month = (1 + month) * (1 + r) - 1;
  }
  auto heat_map = [&](const char* title, const char* table_class, const char* row_name,
                      const std::vector<std::string>& columns, const Grid& grid) {
    h += fmt::format("<h3>{}</h3>\n<table{}>\n<tr><th class=\"l\">{}</th>", title, table_class,
                     row_name);
    for (const auto& c : columns) h += fmt::format("<th>{}</th>", c);
    h += "</tr>\n";
    for (const auto& [label, values] : grid) {
      h += fmt::format("<tr><th class=\"l\">{}</th>", label);
      for (int k = 1; k <= static_cast<int>(columns.size()); ++k) {
        auto it = values.find(k);
        h += it == values.end() ? std::string("<td></td>") : cell(it->second);
      }
      h += "</tr>\n";
    }
    h += "</table>\n";
  };
  std::vector<std::string> days;
  for (int d = 1; d <= 31; ++d) days.push_back(std::to_string(d));
  h += "<h2>Returns (%)</h2>\n";
  heat_map("daily", " class=\"days\"", "month", days, by_month);
  heat_map("monthly", "", "year",
           {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
           by_year);

  // Per-pair attribution and the trades.
  struct PairTotal {
    std::string legs;
    int trades = 0;
    double pnl = 0, fees = 0;
  };
  std::map<std::int64_t, PairTotal> pairs;
  for (const auto& t : trips) {
    auto& p = pairs[t.pair];
    p.legs = t.legs;
    ++p.trades;
    p.pnl += t.pnl;
    p.fees += t.fees;
  }
  h += "<h2>Per pair (closed round trips)</h2>\n<table>\n<tr><th>pair</th><th class=\"l\">legs"
       "</th><th>round trips</th><th>P&amp;L</th><th>fees</th></tr>\n";
  for (const auto& [id, p] : pairs)
    h += fmt::format(
        "<tr><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{:.2f}</td><td>{:.2f}"
        "</td></tr>\n",
        id, escape(p.legs), p.trades, p.pnl, p.fees);
  h += "</table>\n<h2>Trades (round trips)</h2>\n<table>\n<tr><th>#</th><th>pair</th>"
       "<th class=\"l\">legs</th><th class=\"l\">opened</th><th class=\"l\">closed</th>"
       "<th>P&amp;L</th><th>fees</th></tr>\n";
  for (std::size_t i = 0; i < trips.size(); ++i) {
    const auto& t = trips[i];
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td>"
        "<td class=\"l\">{}</td><td>{:.2f}</td><td>{:.2f}</td></tr>\n",
        i + 1, t.pair, escape(t.legs), format_timestamp(t.open), format_timestamp(t.close), t.pnl,
        t.fees);
  }
  h += "</table>\n<p class=\"note\">Metrics: daily returns, 252 days a year; see docs/report.md."
       "</p>\n</body>\n</html>\n";
  return h;
}

}  // namespace pairflow::report
