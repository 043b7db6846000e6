// PaperBroker: a simulated broker realistic enough that its P&L means something, and
// deterministic for a seed (the same input, config and seed give byte-identical executions).
//
// Market: the last quote per symbol (bid, ask and, when the data carries them, the displayed sizes)
// and the last trade. A trade outside the stored quote proves the quote stale; the last trade is
// then the price.
//
// Orders: an order sent at time t arrives at t + latency + jitter (jitter uniform in
// [0, latency_jitter), from a seeded generator) and meets the market as it stood just before its
// arrival (ticks stamped at or after the arrival come later). Cancels travel the same way.
//   - Market orders take the touch (ask for a buy, bid for a sell; the last trade without a quote),
//     at most the displayed size; the rest walks the book: each further level offers the displayed
//     size again, `level_step_bps` worse than the one before, up to `depth_levels` levels; what is
//     left expires (immediate-or-cancel). What orders take is gone until the next quote of the
//     symbol refreshes the book. Without displayed sizes the whole order fills at the touch.
//     `slippage_bps` worsens every level.
//   - Limit orders that are marketable on arrival fill like market orders, never beyond the limit;
//     what is left rests. A resting order fills only when the market trades through its price: a
//     trade strictly better than the limit (at most the trade's size), or the opposite quote moving
//     strictly through it (at most the displayed size). The queue assumption is the cautious one:
//     a resting order is last in its queue, so merely touching the price fills nothing.
//   - Fees: per share plus basis points of the notional, and at least `min_per_order` an order
//     (charged on the order's last fill).
//
// Lifecycle: on_tick() for every accepted tick, send()/cancel() with the decision time,
// advance(now) to process arrivals up to now at the current market, poll() for the reports,
// finish() at the end of a finite input. Single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/random.h"
#include "exec/broker.h"
#include "exec/market.h"
#include "exec/order.h"
#include "model/messages.h"

namespace pairflow::exec {

struct FeeModel {
  double commission_per_share = 0.0;
  double commission_bps = 0.5;
  double min_per_order = 0.0;
  double fee(double qty, double price) const {
    return qty * commission_per_share + qty * price * commission_bps / 1e4;
  }
};

struct PaperConfig {
  Timestamp latency = 0;         // ns from decision to arrival at the market
  Timestamp latency_jitter = 0;  // ns, uniform [0, jitter) added per message
  std::uint64_t seed = 1;
  double slippage_bps = 0;      // every fill, against the touch
  int depth_levels = 5;         // levels a market order may walk (with displayed sizes)
  double level_step_bps = 1.0;  // each level this much worse than the one before
  FeeModel fees;
};

class PaperBroker : public Broker {
 public:
  explicit PaperBroker(const PaperConfig& config = {});

  void on_tick(const Tick& tick);
  void send(const Order& order, Timestamp now) override;
  void cancel(std::uint64_t client_order_id, Timestamp now) override;
  void advance(Timestamp now) override;
  void poll(std::vector<BrokerReport>& out) override;
  BrokerView view(const std::vector<Order>& orders) override;
  // The paper broker lives and dies with its process: at a restart, the journal's orders that
  // had fills or ended are its record again (what was still travelling is lost with the process
  // and the journal resends it).
  void restore(const std::vector<OrderRecord>& journal);
  // End of a finite input: everything still travelling arrives, at the last market.
  void finish();

  // The market as the broker sees it.
  const MarketBook& market() const { return market_; }
  double fill_price(SymbolId symbol, Side side) const { return market_.touch(symbol, side); }
  double mid(SymbolId symbol) const { return market_.mid(symbol); }
  const PaperConfig& config() const { return config_; }
  const FeeModel& fees() const { return config_.fees; }
  std::uint64_t orders_received() const { return received_; }
  // Orders that arrived with a client order id it already had (refused, never executed twice).
  std::uint64_t duplicates() const { return duplicates_; }

 private:
  struct Working {
    Order order;
    double filled = 0, notional = 0, fees = 0;
    bool resting = false;
  };
  struct Arrival {
    Timestamp at;
    std::uint64_t seq;
    bool cancel;
    Order order;  // the order (send) or just its id (cancel)
    bool operator>(const Arrival& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  Timestamp arrival_time(Timestamp now);
  void arrive(const Arrival& a);
  // Takes liquidity for `w` at the current market, never beyond `limit` (NaN: no limit).
  void take(Working& w, Timestamp at, double limit);
  void fill(Working& w, Timestamp at, double qty, double price, bool last);
  void end(Working& w, Timestamp at, ReportKind kind, std::string reason);
  void check_resting(const Tick& tick);

  PaperConfig config_;
  Rng rng_;
  MarketBook market_;
  std::priority_queue<Arrival, std::vector<Arrival>, std::greater<>> travelling_;
  std::uint64_t seq_ = 0;
  std::unordered_map<std::uint64_t, Working> working_;     // by client order id, live orders
  std::vector<std::uint64_t> resting_;                     // ids of resting limit orders, in order
  std::unordered_map<std::uint64_t, BrokerOrder> orders_;  // every order received, by id
  std::map<SymbolId, double> positions_;
  std::vector<BrokerReport> reports_;
  std::vector<std::pair<double, double>> taken_;  // by symbol: bid and ask size taken this quote
  std::uint64_t received_ = 0, duplicates_ = 0;
};

}  // namespace pairflow::exec
