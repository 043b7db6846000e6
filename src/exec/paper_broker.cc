#include "exec/paper_broker.h"

#include <cmath>

namespace pairflow::exec {

void PaperBroker::ensure(SymbolId symbol) {
  if (symbol >= last_.size()) {
    bid_.resize(symbol + 1, kNaN);
    ask_.resize(symbol + 1, kNaN);
    last_.resize(symbol + 1, kNaN);
  }
}

void PaperBroker::on_tick(const Tick& tick) {
  ensure(tick.symbol);
  last_[tick.symbol] = tick.price;
  if (tick.has_quote()) {
    bid_[tick.symbol] = tick.bid;
    ask_[tick.symbol] = tick.ask;
  } else if (tick.price < bid_[tick.symbol] || tick.price > ask_[tick.symbol]) {
    // A trade outside the stored quote proves the quote stale: fall back to the last trade.
    bid_[tick.symbol] = ask_[tick.symbol] = kNaN;
  }
}

double PaperBroker::fill_price(SymbolId symbol, Side side) const {
  if (symbol >= last_.size()) return kNaN;
  double quote = side == Side::kBuy ? ask_[symbol] : bid_[symbol];
  return std::isfinite(quote) ? quote : last_[symbol];
}

double PaperBroker::mid(SymbolId symbol) const {
  if (symbol >= last_.size()) return kNaN;
  if (std::isfinite(bid_[symbol]) && std::isfinite(ask_[symbol]))
    return 0.5 * (bid_[symbol] + ask_[symbol]);
  return last_[symbol];
}

Execution PaperBroker::execute(const Order& order) const {
  Execution exec{.client_order_id = order.client_order_id,
                 .ts = order.ts,
                 .symbol = order.symbol,
                 .side = order.side,
                 .qty = order.qty};
  const double price = fill_price(order.symbol, order.side);
  if (!std::isfinite(price) || !(order.qty > 0)) {
    exec.status = ExecStatus::kRejected;
    exec.qty = 0;
    exec.price = kNaN;
    return exec;
  }
  exec.price = price;
  exec.fee = fees_.fee(order.qty, price);
  exec.status = ExecStatus::kFilled;
  return exec;
}

}  // namespace pairflow::exec
