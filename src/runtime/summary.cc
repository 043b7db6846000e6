#include "runtime/summary.h"

#include <fmt/format.h>

#include "model/json.h"

namespace pairflow::runtime {

std::string Summary::to_json() const {
  std::string out = "{";
  out += fmt::format(
      R"("trades":{},"gross_pnl":{},"net_pnl":{},"fees":{},"sharpe":{},"max_drawdown":{},)", trades,
      json_number(gross_pnl), json_number(net_pnl), json_number(fees), json_number(sharpe),
      json_number(max_drawdown));
  out += fmt::format(
      R"("max_drawdown_pct":{},"initial_capital":{},"ticks":{},"rejected_ticks":{},)",
      json_number(max_drawdown_pct), json_number(initial_capital), ticks, rejected_ticks);
  out += fmt::format(R"("bars":{},"symbols":{},"orders":{},"fills":{},"rejected_orders":{},)", bars,
                     symbols, orders, fills, rejected_orders);
  out += fmt::format(R"("refused_signals":{},)", refused_signals);
  out += fmt::format(
      R"("discovery":{{"warmup_bars":{},"warmup_complete":{},"tests":{},"passing":{}}},"rejects":{{)",
      warmup_bars, warmup_complete ? "true" : "false", discovery_tests, discovery_passing);
  bool first = true;
  for (const auto& [reason, count] : rejects) {
    out += fmt::format("{}{}:{{\"count\":{},\"first\":{}}}", first ? "" : ",", json_string(reason),
                       count, json_string(first_reject.at(reason)));
    first = false;
  }
  out += R"(},"pairs":[)";
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto& p = pairs[i];
    out += fmt::format(
        R"({}{{"y":{},"x":{},"hedge_ratio":{},"intercept":{},"pvalue":{},"adj_pvalue":{},"half_life":{},"trades":{},"net_pnl":{}}})",
        i ? "," : "", json_string(p.y), json_string(p.x), json_number(p.hedge_ratio),
        json_number(p.intercept), json_number(p.pvalue), json_number(p.adj_pvalue),
        json_number(p.half_life), p.trades, json_number(p.net_pnl));
  }
  out += "]}";
  return out;
}

std::string Summary::to_table() const {
  std::string out;
  out += fmt::format("ticks {}  rejected {}  symbols {}  bars {}\n", ticks, rejected_ticks, symbols,
                     bars);
  if (warmup_complete) {
    out += fmt::format("discovery: {} tests, {} passing (last screen), {} pairs activated\n",
                       discovery_tests, discovery_passing, pairs.size());
  } else {
    out += fmt::format("discovery: did not run: input ended after {} of the {} warm-up bars\n",
                       slices, warmup_bars);
  }
  if (!pairs.empty()) {
    out += fmt::format("  {:<8} {:<8} {:>8} {:>10} {:>9} {:>7} {:>12}\n", "y", "x", "hedge",
                       "adj p", "half-life", "trades", "net P&L");
    for (const auto& p : pairs) {
      out += fmt::format("  {:<8} {:<8} {:>8.3f} {:>10.2e} {:>9.1f} {:>7} {:>12.2f}\n", p.y, p.x,
                         p.hedge_ratio, p.adj_pvalue, p.half_life, p.trades, p.net_pnl);
    }
  }
  out += fmt::format("trades {}  orders {}  fills {}\n", trades, orders, fills);
  out += fmt::format("gross P&L {:.2f}  fees {:.2f}  net P&L {:.2f}  on capital {:.0f}\n",
                     gross_pnl, fees, net_pnl, initial_capital);
  out += fmt::format("sharpe {:.2f}  max drawdown {:.2f} ({:.2f}%)\n", sharpe, max_drawdown,
                     100 * max_drawdown_pct);
  for (const auto& [reason, count] : rejects) {
    out += fmt::format("rejected {} x {}: first {}\n", count, reason, first_reject.at(reason));
  }
  if (refused_signals > 0) {
    out +=
        fmt::format("refused {} entry signals: first {}\n", refused_signals, first_refused_signal);
  }
  return out;
}

}  // namespace pairflow::runtime
