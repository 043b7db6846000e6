#include "engine/summary.h"

#include <fmt/format.h>

#include "base/json_writer.h"

namespace pairflow::engine {

std::string Summary::to_json() const {
  const bool decisions = part != Part::kExecution, execution = part != Part::kDecisions;
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  if (execution) {
    w.field("trades", trades).field("gross_pnl", gross_pnl);
    w.field("net_pnl", net_pnl).field("fees", fees).field("sharpe", sharpe);
    w.field("max_drawdown", max_drawdown).field("max_drawdown_pct", max_drawdown_pct);
    w.field("initial_capital", initial_capital);
  }
  if (decisions) {
    w.field("ticks", ticks).field("rejected_ticks", rejected_ticks).field("bars", bars);
    w.field("symbols", symbols);
  }
  if (execution) {
    w.field("orders", orders).field("fills", fills).field("rejected_orders", rejected_orders);
  }
  w.field("intents", intents);
  if (execution) {
    w.field("intents_failed", intents_failed).field("unwinds", unwinds).field("chases", chases);
    w.key("denials").begin_object();
    for (const auto& [reason, count] : denials) w.field(reason, count);
    w.end_object().field("kill_switch", kill_switch).field("trading_state", trading_state);
    w.field("unhedged_notional", unhedged_notional).field("realism_cost", realism_cost);
    w.field("ideal_net_pnl", ideal_net_pnl).key("positions").begin_object();
    for (const auto& [symbol, qty] : positions) w.field(symbol, qty);
    w.end_object();
  }
  if (decisions) {
    w.field("refused_signals", refused_signals).key("discovery").begin_object();
    w.field("warmup_bars", warmup_bars).field("warmup_complete", warmup_complete);
    w.field("tests", discovery_tests).field("passing", discovery_passing).end_object();
    w.key("rejects").begin_object();
    for (const auto& [reason, count] : rejects) {
      w.key(reason).begin_object().field("count", count).field("first", first_reject.at(reason));
      w.end_object();
    }
    w.end_object().key("pairs").begin_array();
    for (const auto& p : pairs) {
      w.begin_object().field("y", p.y).field("x", p.x).field("hedge_ratio", p.hedge_ratio);
      w.field("intercept", p.intercept).field("pvalue", p.pvalue);
      w.field("adj_pvalue", p.adj_pvalue).field("half_life", p.half_life);
      if (execution) w.field("trades", p.trades).field("net_pnl", p.net_pnl);
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
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
  out += fmt::format("trades {}  intents {} ({} failed)  orders {}  fills {}  rejected {}\n",
                     trades, intents, intents_failed, orders, fills, rejected_orders);
  out += fmt::format("gross P&L {:.2f}  fees {:.2f}  net P&L {:.2f}  on capital {:.0f}\n",
                     gross_pnl, fees, net_pnl, initial_capital);
  out += fmt::format("cost of realism {:.2f}  (net P&L with ideal fills {:.2f})\n", realism_cost,
                     ideal_net_pnl);
  out += fmt::format("sharpe {:.2f}  max drawdown {:.2f} ({:.2f}%)\n", sharpe, max_drawdown,
                     100 * max_drawdown_pct);
  for (const auto& [reason, count] : denials) out += fmt::format("denied {} x {}\n", count, reason);
  if (kill_switch != "none" || trading_state != "active") {
    out += fmt::format("kill switch {}  trading {}  unhedged notional {:.2f}\n", kill_switch,
                       trading_state, unhedged_notional);
  }
  for (const auto& [reason, count] : rejects) {
    out += fmt::format("rejected {} x {}: first {}\n", count, reason, first_reject.at(reason));
  }
  if (refused_signals > 0) {
    out +=
        fmt::format("refused {} entry signals: first {}\n", refused_signals, first_refused_signal);
  }
  return out;
}

}  // namespace pairflow::engine
