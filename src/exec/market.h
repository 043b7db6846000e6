// MarketBook: the last quote (bid, ask, displayed sizes), its time and the last trade per symbol,
// as the ticks say. What pre-trade risk and the paper broker look at. Single-threaded.
#pragma once

#include <cmath>
#include <vector>

#include "model/messages.h"

namespace pairflow::exec {

class MarketBook {
 public:
  void on_tick(const Tick& tick) {
    ensure(tick.symbol);
    const SymbolId s = tick.symbol;
    last_[s] = tick.price;
    ts_[s] = tick.ts;
    if (tick.has_quote()) {
      bid_[s] = tick.bid;
      ask_[s] = tick.ask;
      bid_size_[s] = tick.bid_size;
      ask_size_[s] = tick.ask_size;
    } else if (tick.price < bid_[s] || tick.price > ask_[s]) {
      // A trade outside the stored quote proves the quote stale: fall back to the last trade.
      bid_[s] = ask_[s] = bid_size_[s] = ask_size_[s] = kNaN;
    }
  }
  double bid(SymbolId s) const { return s < bid_.size() ? bid_[s] : kNaN; }
  double ask(SymbolId s) const { return s < ask_.size() ? ask_[s] : kNaN; }
  double bid_size(SymbolId s) const { return s < bid_size_.size() ? bid_size_[s] : kNaN; }
  double ask_size(SymbolId s) const { return s < ask_size_.size() ? ask_size_[s] : kNaN; }
  double last(SymbolId s) const { return s < last_.size() ? last_[s] : kNaN; }
  Timestamp ts(SymbolId s) const { return s < ts_.size() ? ts_[s] : 0; }
  // What a market order of `side` would pay now (the touch, or the last trade without a quote).
  double touch(SymbolId s, Side side) const {
    const double q = side == Side::kBuy ? ask(s) : bid(s);
    return std::isfinite(q) ? q : last(s);
  }
  double mid(SymbolId s) const {
    if (std::isfinite(bid(s)) && std::isfinite(ask(s))) return 0.5 * (bid(s) + ask(s));
    return last(s);
  }

 private:
  void ensure(SymbolId s) {
    if (s < last_.size()) return;
    const std::size_t n = static_cast<std::size_t>(s) + 1;
    for (auto* v : {&bid_, &ask_, &bid_size_, &ask_size_, &last_}) v->resize(n, kNaN);
    ts_.resize(n, 0);
  }
  std::vector<double> bid_, ask_, bid_size_, ask_size_, last_;
  std::vector<Timestamp> ts_;
};

}  // namespace pairflow::exec
