// IndicatorEngine: a configured set of streaming indicators over the bars of many symbols.
//
// Configured by a list such as "logret,ema:10,sma:20,rsi:14,atr:14,zscore:20,ewmvol:20,
// hurst:100,corr:20:SPY" (parse_indicators; docs/features.md lists every kind, its parameters,
// definition and warm-up). Fed bars as they close, one slice of a time-bar interval at a time (or
// one bar for tick/volume/dollar bars); for each bar it calls on_row(bar, values) with one value
// per configured column, NaN where that indicator is not defined yet. corr:n:REF correlates each
// symbol's log returns with REF's over the last n slices in which both had a bar and a return.
//
// Each indicator column keeps its per-symbol kernels in one contiguous array indexed by SymbolId,
// and columns are grouped by kind, so an update is a direct call (no virtual dispatch); memory
// grows only when a new symbol appears. Single-threaded: owned by the thread that closes bars.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/symbols.h"
#include "features/indicators.h"
#include "model/messages.h"

namespace pairflow::features {

enum class IndicatorKind : std::uint8_t {
  kLogReturn,  // logret
  kSma,        // sma:n
  kEma,        // ema:n
  kMean,       // mean:n
  kStd,        // std:n
  kZScore,     // zscore:n
  kEwmaVol,    // ewmvol:n
  kRsi,        // rsi[:n=14]
  kAtr,        // atr[:n=14]
  kHurst,      // hurst[:w=100]
  kCorr,       // corr:n:REF
};

struct IndicatorSpec {
  IndicatorKind kind = IndicatorKind::kLogReturn;
  int n = 0;
  std::string reference;  // corr only: the other symbol
  std::string column;     // output column name, e.g. "ema_10"
};

// One item ("ema:10") or a comma-separated list; kInvalidArgument naming the bad item.
Result<IndicatorSpec> parse_indicator(std::string_view item);
Result<std::vector<IndicatorSpec>> parse_indicators(std::string_view list);

class IndicatorEngine {
 public:
  // `symbols` resolves corr references by name (may be null when there are none); it must outlive
  // the engine. Symbols may be interned after construction.
  explicit IndicatorEngine(std::vector<IndicatorSpec> specs, const SymbolTable* symbols = nullptr);

  const std::vector<IndicatorSpec>& specs() const { return specs_; }
  std::size_t columns() const { return specs_.size(); }

  // on_row(const Bar&, std::span<const double> values) for each bar, in the slice's order.
  template <typename OnRow>
  void on_slice(std::span<const Bar> bars, OnRow&& on_row) {
    if (bars.empty()) return;
    const std::size_t cols = specs_.size();
    if (values_.size() < bars.size() * cols) values_.resize(bars.size() * cols);
    if (rets_.size() < bars.size()) rets_.resize(bars.size());
    ensure(std::max_element(bars.begin(), bars.end(), [](const Bar& a, const Bar& b) {
             return a.symbol < b.symbol;
           })->symbol);
    for (std::size_t k = 0; k < bars.size(); ++k) {
      const Bar& b = bars[k];
      double* row = values_.data() + k * cols;
      const SymbolId s = b.symbol;
      const double r = returns_[s].update(b.close);
      rets_[k] = r;
      for (const Slot& c : logret_) row[c.out] = r;
      for (Col<Sma>& c : sma_) row[c.out] = c.state[s].update(b.close);
      for (Col<Ema>& c : ema_) row[c.out] = c.state[s].update(b.close);
      for (Col<RollingMoments>& c : moments_) {
        RollingMoments& m = c.state[s];
        m.update(b.close);
        for (const Slot& o : c.outputs) {
          switch (o.kind) {
            case IndicatorKind::kMean:
              row[o.out] = m.mean();
              break;
            case IndicatorKind::kStd:
              row[o.out] = m.stddev();
              break;
            default:
              row[o.out] = m.zscore(b.close);
              break;
          }
        }
      }
      for (Col<EwmaVol>& c : ewmvol_) row[c.out] = c.state[s].update_return(r);
      for (Col<Rsi>& c : rsi_) row[c.out] = c.state[s].update(b.close);
      for (Col<Atr>& c : atr_) row[c.out] = c.state[s].update(b.high, b.low, b.close);
      for (Col<RollingHurst>& c : hurst_) row[c.out] = c.state[s].update(std::log(b.close));
    }
    if (!corr_.empty()) update_correlations(bars);
    for (std::size_t k = 0; k < bars.size(); ++k) {
      on_row(bars[k], std::span<const double>(values_.data() + k * cols, cols));
    }
  }

  template <typename OnRow>
  void on_bar(const Bar& bar, OnRow&& on_row) {
    on_slice(std::span<const Bar>(&bar, 1), on_row);
  }

 private:
  struct Slot {
    IndicatorKind kind;
    int out;
  };
  template <typename K>
  struct Col {
    int out = 0;
    int n = 0;
    std::vector<K> state;       // per SymbolId
    std::vector<Slot> outputs;  // moments: mean/std/zscore columns sharing one window
    std::string reference;      // corr
    SymbolId reference_id = 0;
    bool resolved = false;
  };

  void ensure(SymbolId max_symbol);
  void update_correlations(std::span<const Bar> bars);

  std::vector<IndicatorSpec> specs_;
  const SymbolTable* symbols_;
  std::size_t symbols_seen_ = 0;
  std::vector<LogReturn> returns_;  // per SymbolId, shared by logret, ewmvol and corr
  std::vector<Slot> logret_;
  std::vector<Col<Sma>> sma_;
  std::vector<Col<Ema>> ema_;
  std::vector<Col<RollingMoments>> moments_;
  std::vector<Col<EwmaVol>> ewmvol_;
  std::vector<Col<Rsi>> rsi_;
  std::vector<Col<Atr>> atr_;
  std::vector<Col<RollingHurst>> hurst_;
  std::vector<Col<RollingCorrelation>> corr_;
  std::vector<double> values_;  // rows of the current slice
  std::vector<double> rets_;    // log return of each bar of the current slice
};

}  // namespace pairflow::features
