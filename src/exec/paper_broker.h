// PaperBroker: fills market orders against the latest quote, with a commission model.
//
// A buy fills at the latest ask, a sell at the latest bid; a symbol whose ticks carry no quote
// fills at its last trade price. The whole quantity fills at once (no depth model yet). An order
// for a symbol with no price yet is rejected. Fees = qty * commission_per_share + notional *
// commission_bps / 1e4. Lifecycle: on_tick() for every accepted tick, execute() per order.
// Single-threaded; quotes are struct-of-arrays by SymbolId.
#pragma once

#include <vector>

#include "model/messages.h"

namespace pairflow::exec {

struct FeeModel {
  double commission_per_share = 0.0;
  double commission_bps = 0.5;
  double fee(double qty, double price) const {
    return qty * commission_per_share + qty * price * commission_bps / 1e4;
  }
};

class PaperBroker {
 public:
  explicit PaperBroker(const FeeModel& fees) : fees_(fees) {}

  void on_tick(const Tick& tick);
  Execution execute(const Order& order) const;
  // The price a market order would get now (NaN when none is known).
  double fill_price(SymbolId symbol, Side side) const;
  double mid(SymbolId symbol) const;
  const FeeModel& fees() const { return fees_; }

 private:
  void ensure(SymbolId symbol);
  FeeModel fees_;
  std::vector<double> bid_, ask_, last_;
};

}  // namespace pairflow::exec
