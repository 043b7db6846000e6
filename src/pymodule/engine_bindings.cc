// pairflow._core: features, generated markets and backtests, through the engine's own drivers
// (engine/run_drivers.h), so a DataFrame or a CSV path gives what `pairflow features`, `pairflow
// gen` and `pairflow backtest` give.
#include <fmt/format.h>
#include <pybind11/stl.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include "base/buffered_file.h"
#include "base/reject_policy.h"
#include "base/symbols.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/run_drivers.h"
#include "engine/tick_source.h"
#include "features/feature_pipeline.h"
#include "features/indicator_engine.h"
#include "pymodule/bindings.h"
#include "pymodule/convert.h"
#include "report/report.h"
#include "sim/market.h"
#include "sim/market_writer.h"

namespace pairflow::pymodule {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Ticks from columns (the Python side has factorized the symbols in order of first appearance).
// Rows are read in place; a symbol is interned when first met, as the CSV reader does.
class TickColumns {
 public:
  explicit TickColumns(const py::dict& columns) {
    ts_ = as_int64(columns["ts"], "ts");
    codes_ = as_int64(columns["symbol"], "symbol");
    ts_data_ = ts_.data();
    codes_data_ = codes_.data();
    names_ = columns["names"].cast<std::vector<std::string>>();
    price_ = as_series(columns["price"], "ticks: price");
    rows_ = price_.values.size();
    size_ = optional_column(columns, "size");
    bid_ = optional_column(columns, "bid");
    ask_ = optional_column(columns, "ask");
    bid_size_ = optional_column(columns, "bid_size");
    ask_size_ = optional_column(columns, "ask_size");
    for (const auto* s : {&size_, &bid_, &ask_, &bid_size_, &ask_size_})
      if (s->has_value() && (*s)->values.size() != rows_)
        raise_error("ticks: columns of different lengths");
    if (static_cast<std::size_t>(ts_.size()) != rows_ ||
        static_cast<std::size_t>(codes_.size()) != rows_)
      raise_error("ticks: columns of different lengths");
    ids_.assign(names_.size(), kUnseen);
  }

  std::size_t rows() const { return rows_; }
  std::size_t row() const { return next_ == 0 ? 0 : next_ - 1; }

  engine::ReadResult next(SymbolTable& symbols, Tick& tick, std::string& error) {
    if (next_ >= rows_) return engine::ReadResult::kEnd;
    const std::size_t r = next_++;
    const std::int64_t code = codes_data_[r];
    if (code < 0 || code >= static_cast<std::int64_t>(names_.size())) {
      error = fmt::format("ticks row {}: no symbol", r);
      return engine::ReadResult::kBadRow;
    }
    if (ids_[code] == kUnseen) ids_[code] = symbols.intern(names_[code]);
    tick = Tick{};
    tick.ts = ts_data_[r];
    tick.symbol = ids_[code];
    tick.price = price_.values[r];
    tick.size = size_ ? size_->values[r] : 0.0;
    if (bid_) tick.bid = bid_->values[r];
    if (ask_) tick.ask = ask_->values[r];
    if (bid_size_) tick.bid_size = bid_size_->values[r];
    if (ask_size_) tick.ask_size = ask_size_->values[r];
    return engine::ReadResult::kTick;
  }

 private:
  static constexpr SymbolId kUnseen = std::numeric_limits<SymbolId>::max();
  static py::array_t<std::int64_t> as_int64(py::handle object, const char* what) {
    py::array array(py::module_::import("numpy").attr("ascontiguousarray")(object, "int64"));
    if (array.ndim() != 1) raise_error(fmt::format("ticks: {} must be one column", what));
    return py::array_t<std::int64_t>(array);
  }
  static std::optional<Series> optional_column(const py::dict& columns, const char* name) {
    if (!columns.contains(name) || columns[name].is_none()) return std::nullopt;
    return as_series(columns[name], fmt::format("ticks: {}", name));
  }

  py::array_t<std::int64_t> ts_, codes_;
  const std::int64_t *ts_data_ = nullptr, *codes_data_ = nullptr;  // read without the GIL
  std::vector<std::string> names_;
  Series price_;
  std::optional<Series> size_, bid_, ask_, bid_size_, ask_size_;
  std::vector<SymbolId> ids_;
  std::size_t rows_ = 0, next_ = 0;
};

// A ticks CSV read by the CLI's reader (same parsing, same errors): the columns of a DataFrame.
py::dict read_ticks(const std::string& path, std::int64_t max_rejects) {
  SymbolTable symbols;
  engine::CsvTickSource source(path, symbols);
  RejectPolicy policy(max_rejects, "max_rejects");
  std::vector<std::int64_t> ts;
  std::vector<std::int32_t> symbol;
  std::vector<double> price, size, bid, ask, bid_size, ask_size;
  {
    py::gil_scoped_release released;
    Tick t;
    std::string error;
    for (;;) {
      const engine::ReadResult r = source.next(t, error);
      if (r == engine::ReadResult::kEnd) break;
      if (r == engine::ReadResult::kBadRow) {
        policy.on_reject(error);
        continue;
      }
      ts.push_back(t.ts);
      symbol.push_back(static_cast<std::int32_t>(t.symbol));
      price.push_back(t.price);
      size.push_back(t.size);
      bid.push_back(t.bid);
      ask.push_back(t.ask);
      bid_size.push_back(t.bid_size);
      ask_size.push_back(t.ask_size);
    }
  }
  py::dict out;
  out["ts"] = to_numpy(std::move(ts));
  out["symbol"] = to_numpy(std::move(symbol));
  out["names"] = symbols.names();
  out["price"] = to_numpy(std::move(price));
  out["size"] = to_numpy(std::move(size));
  out["bid"] = to_numpy(std::move(bid));
  out["ask"] = to_numpy(std::move(ask));
  out["bid_size"] = to_numpy(std::move(bid_size));
  out["ask_size"] = to_numpy(std::move(ask_size));
  out["rejected"] = policy.count();
  out["first_reject"] = policy.first();
  return out;
}

// ---- features ----------------------------------------------------------------------------

py::dict feature_bars(py::object path, py::object columns, const std::string& bars,
                      const std::string& indicators, const std::string& lateness,
                      std::int64_t max_rejects) {
  auto bar_spec = features::parse_bar_spec(bars);
  if (!bar_spec) raise_error(fmt::format("bars: {}", bar_spec.status().message()));
  if (lateness != "0" && !lateness.empty()) {
    auto late = parse_duration(lateness);
    if (!late || *late < 0)
      raise_error(
          fmt::format("lateness '{}': expected a duration such as 0, 500ms or 2s", lateness));
    bar_spec->allowed_lateness = *late;
  }
  auto specs = features::parse_indicators(indicators);
  if (!specs) raise_error(fmt::format("indicators: {}", specs.status().message()));
  for (const auto& s : *specs)
    if (s.kind == features::IndicatorKind::kCorr && bar_spec->kind != features::BarKind::kTime)
      raise_error(fmt::format("indicators: {} needs time bars (1s, 1m, ...)", s.column));
  if (max_rejects < -1) raise_error("max_rejects must be >= -1 (-1 = any)");

  SymbolTable symbols;
  std::unique_ptr<engine::CsvTickSource> csv;
  std::unique_ptr<TickColumns> table;
  if (!path.is_none())
    csv = std::make_unique<engine::CsvTickSource>(path.cast<std::string>(), symbols);
  else
    table = std::make_unique<TickColumns>(columns.cast<py::dict>());
  features::FeaturePipeline pipeline(*bar_spec, *specs, &symbols);

  const std::size_t width = specs->size();
  std::vector<std::int64_t> ts;
  std::vector<std::int32_t> symbol;
  std::vector<std::uint32_t> count;
  std::vector<double> open, high, low, close, volume, vwap;
  std::vector<std::vector<double>> values(width);
  engine::FeatureRun run;
  {
    py::gil_scoped_release released;
    auto on_row = [&](const Bar& b, std::span<const double> row) {
      ts.push_back(b.ts);
      symbol.push_back(static_cast<std::int32_t>(b.symbol));
      open.push_back(b.open);
      high.push_back(b.high);
      low.push_back(b.low);
      close.push_back(b.close);
      volume.push_back(b.volume);
      vwap.push_back(b.vwap);
      count.push_back(b.count);
      for (std::size_t k = 0; k < width; ++k) values[k].push_back(row[k]);
    };
    if (csv) {
      run = engine::run_features(
          [&](Tick& tick, std::string& error) { return csv->next(tick, error); }, pipeline, on_row,
          max_rejects, "max_rejects",
          [&](const std::string& why) { return csv->reader().where(why); });
    } else {
      run = engine::run_features(
          [&](Tick& tick, std::string& error) { return table->next(symbols, tick, error); },
          pipeline, on_row, max_rejects, "max_rejects",
          [&](const std::string& why) {
            return fmt::format("ticks row {}: {}", table->row(), why);
          });
    }
  }
  py::dict out;
  out["ts"] = to_numpy(std::move(ts));
  out["symbol"] = to_numpy(std::move(symbol));
  out["names"] = symbols.names();
  out["open"] = to_numpy(std::move(open));
  out["high"] = to_numpy(std::move(high));
  out["low"] = to_numpy(std::move(low));
  out["close"] = to_numpy(std::move(close));
  out["volume"] = to_numpy(std::move(volume));
  out["vwap"] = to_numpy(std::move(vwap));
  out["count"] = to_numpy(std::move(count));
  py::list indicator_names, indicator_values;
  for (std::size_t k = 0; k < width; ++k) {
    indicator_names.append((*specs)[k].column);
    indicator_values.append(to_numpy(std::move(values[k])));
  }
  out["indicator_names"] = indicator_names;
  out["indicator_values"] = indicator_values;
  out["ticks"] = run.ticks;
  out["late"] = pipeline.late_rejected();
  out["rejected"] = run.rejected;
  out["first_reject"] = run.first_reject;
  return out;
}

// ---- generated markets ---------------------------------------------------------------------

engine::EngineConfig make_config(const std::string& path, const std::vector<std::string>& sets) {
  engine::EngineConfig config = path.empty() ? engine::EngineConfig{} : engine::load_config(path);
  engine::apply_overrides(config, sets);
  return config;
}

// A value as the CSV writer prints it and the CSV reader reads it back, so generated DataFrames
// equal the files `pairflow gen` writes.
double as_written(double value, int decimals) {
  char buf[64];
  auto end = fmt::format_to_n(buf, sizeof buf, "{:.{}f}", value, decimals).out;
  double back = kNaN;
  std::from_chars(buf, end, back);
  return back;
}

py::list truth(const sim::MarketGenerator& market) {
  py::list out;
  for (const auto& p : market.planted()) {
    py::dict row;
    row["y"] = p.y;
    row["x"] = p.x;
    row["hedge_ratio"] = p.hedge_ratio;
    row["intercept"] = p.intercept;
    row["half_life_s"] = p.half_life_s;
    row["spread_std"] = p.spread_std;
    out.append(row);
  }
  return out;
}

py::dict gen_ticks(const std::string& config_path, const std::vector<std::string>& sets) {
  const engine::EngineConfig config = make_config(config_path, sets);
  sim::MarketGenerator market(config.market);
  std::vector<std::int64_t> ts;
  std::vector<std::int32_t> symbol;
  std::vector<double> price, size, bid, ask;
  {
    py::gil_scoped_release released;
    Tick t;
    while (market.next(t)) {
      ts.push_back(t.ts);
      symbol.push_back(static_cast<std::int32_t>(t.symbol));
      price.push_back(as_written(t.price, 2));
      size.push_back(t.size);
      bid.push_back(as_written(t.bid, 2));
      ask.push_back(as_written(t.ask, 2));
    }
  }
  py::dict out;
  out["ts"] = to_numpy(std::move(ts));
  out["symbol"] = to_numpy(std::move(symbol));
  out["names"] = market.symbols().names();
  out["price"] = to_numpy(std::move(price));
  out["size"] = to_numpy(std::move(size));
  out["bid"] = to_numpy(std::move(bid));
  out["ask"] = to_numpy(std::move(ask));
  out["truth"] = truth(market);
  out["seed"] = market.spec().seed;
  return out;
}

py::dict gen_bars(const std::string& config_path, const std::vector<std::string>& sets,
                  const std::string& interval) {
  const engine::EngineConfig config = make_config(config_path, sets);
  auto step = parse_duration(interval);
  if (!step) raise_error(fmt::format("interval: {}", step.status().message()));
  sim::MarketGenerator market(config.market);
  const std::size_t n = market.symbols().size();
  std::vector<std::int64_t> ts;
  std::vector<double> rows;  // row-major while sampling
  {
    py::gil_scoped_release released;
    sim::sample_mids(market, *step, [&](Timestamp at, std::span<const double> mids) {
      ts.push_back(at);
      for (double mid : mids) rows.push_back(as_written(mid, 4));
    });
  }
  const std::size_t count = ts.size();
  std::vector<double> colmajor(count * n);
  for (std::size_t r = 0; r < count; ++r)
    for (std::size_t c = 0; c < n; ++c) colmajor[c * count + r] = rows[r * n + c];
  py::dict out;
  out["ts"] = to_numpy(std::move(ts));
  out["names"] = market.symbols().names();
  out["prices"] = to_numpy_matrix(std::move(colmajor), count, n);
  out["truth"] = truth(market);
  out["seed"] = market.spec().seed;
  return out;
}

// ---- backtest ------------------------------------------------------------------------------

// Keeps what the engine decides and does, column by column, and passes it on to the run's log
// files when there are any.
class Collector : public engine::EngineObserver {
 public:
  explicit Collector(engine::RunLog* log) : log_(log) {}

  void on_signal(const Signal& s) override {
    if (log_) log_->on_signal(s);
    sig_ts.push_back(s.ts);
    sig_pair.push_back(pair_or_minus_one(s.pair));
    sig_z.push_back(s.z);
    sig_hedge.push_back(s.hedge_ratio);
    sig_action.push_back(to_string(s.action));
  }
  void on_order(const Order& o) override {
    if (log_) log_->on_order(o);
    ord_id.push_back(o.client_order_id);
    ord_ts.push_back(o.ts);
    ord_symbol.push_back(static_cast<std::int32_t>(o.symbol));
    ord_side.push_back(to_string(o.side));
    ord_qty.push_back(o.qty);
    ord_type.push_back(to_string(o.type));
    ord_limit.push_back(o.type == OrderType::kLimit ? o.limit : kNaN);
    ord_pair.push_back(pair_or_minus_one(o.pair));
  }
  void on_execution(const Execution& e) override {
    if (log_) log_->on_execution(e);
    ex_id.push_back(e.client_order_id);
    ex_ts.push_back(e.ts);
    ex_symbol.push_back(static_cast<std::int32_t>(e.symbol));
    ex_side.push_back(to_string(e.side));
    ex_qty.push_back(e.qty);
    ex_price.push_back(e.price);
    ex_fee.push_back(e.fee);
    ex_status.push_back(to_string(e.status));
    ex_reason.push_back(e.reason);
    ex_pair.push_back(pair_or_minus_one(e.pair));
  }
  void on_pnl(const PnL& p) override {
    if (log_) log_->on_pnl(p);
    pnl_ts.push_back(p.ts);
    pnl_cash.push_back(p.cash);
    pnl_equity.push_back(p.equity);
    pnl_gross.push_back(p.gross_pnl);
    pnl_fees.push_back(p.fees);
    pnl_net.push_back(p.net_pnl);
  }
  void on_control(const screen::PairControl& c) override {
    if (log_) log_->on_control(c);
    ctl_ts.push_back(c.ts);
    ctl_pair.push_back(pair_or_minus_one(c.pair));
    ctl_action.push_back(c.action == screen::ControlAction::kActivate ? "activate" : "deactivate");
    ctl_y.push_back(static_cast<std::int32_t>(c.y));
    ctl_x.push_back(static_cast<std::int32_t>(c.x));
    ctl_hedge.push_back(c.hedge_ratio);
    ctl_pvalue.push_back(c.pvalue);
    ctl_half_life.push_back(c.half_life);
  }

  static std::int64_t pair_or_minus_one(PairId pair) {
    return pair == kNoPair ? -1 : static_cast<std::int64_t>(pair);
  }

  engine::RunLog* log_;
  std::vector<std::int64_t> sig_ts, sig_pair, ord_ts, ord_pair, ex_ts, ex_pair, pnl_ts, ctl_ts,
      ctl_pair;
  std::vector<double> sig_z, sig_hedge, ord_qty, ord_limit, ex_qty, ex_price, ex_fee, pnl_cash,
      pnl_equity, pnl_gross, pnl_fees, pnl_net, ctl_hedge, ctl_pvalue, ctl_half_life;
  std::vector<std::string> sig_action, ord_side, ord_type, ex_side, ex_status, ex_reason,
      ctl_action;
  std::vector<std::uint64_t> ord_id, ex_id;
  std::vector<std::int32_t> ord_symbol, ex_symbol, ctl_y, ctl_x;
};

py::dict backtest(py::object path, py::object columns, const std::string& config_path,
                  const std::vector<std::string>& sets, const std::string& log_dir,
                  std::optional<std::int64_t> max_rejects) {
  engine::EngineConfig config = make_config(config_path, sets);
  if (max_rejects) config.max_rejects = *max_rejects;
  config.speed = 0;  // a research backtest runs flat out
  engine::validate(config);
  SymbolTable symbols;
  std::unique_ptr<engine::RunLog> log;
  if (!log_dir.empty()) log = std::make_unique<engine::RunLog>(log_dir, symbols);
  Collector collector(log.get());
  std::unique_ptr<TickColumns> table;
  std::string csv_path;
  if (!path.is_none())
    csv_path = path.cast<std::string>();
  else
    table = std::make_unique<TickColumns>(columns.cast<py::dict>());
  engine::Summary summary;
  {
    py::gil_scoped_release released;
    if (table) {
      summary = engine::run_ticks(
          [&](Tick& tick, std::string& error) { return table->next(symbols, tick, error); }, config,
          symbols, &collector,
          [&](const std::string& problem) {
            return fmt::format("ticks row {}: {}", table->row(), problem);
          });
    } else {
      summary = engine::run_csv(csv_path, config, symbols, &collector);
    }
    if (log) {
      log->close();
      write_text_file(log_dir + "/summary.json", summary.to_json());
    }
  }
  // Round trips and metrics as `pairflow report` computes them.
  report::RunData run;
  run.capital = summary.initial_capital;
  for (std::size_t k = 0; k < collector.pnl_ts.size(); ++k)
    run.equity.push_back({collector.pnl_ts[k], collector.pnl_equity[k], collector.pnl_net[k],
                          collector.pnl_fees[k]});
  for (std::size_t k = 0; k < collector.ex_ts.size(); ++k) {
    if (!(collector.ex_qty[k] > 0)) continue;
    const double sign = collector.ex_side[k] == "buy" ? 1.0 : -1.0;
    run.fills.push_back({collector.ex_ts[k], symbols.name(collector.ex_symbol[k]),
                         sign * collector.ex_qty[k], collector.ex_price[k], collector.ex_fee[k],
                         collector.ex_pair[k]});
  }
  run.ideal_net_pnl = summary.ideal_net_pnl;
  run.realism_cost = summary.realism_cost;
  const auto trips = report::round_trips(run);
  const auto metrics = report::compute_metrics(run, trips, report::ReportOptions{});

  Collector& c = collector;
  py::dict out;
  out["summary"] = summary.to_json();
  out["metrics"] = report::metrics_json(metrics);
  out["names"] = symbols.names();
  py::dict signals;
  signals["ts"] = to_numpy(std::move(c.sig_ts));
  signals["pair"] = to_numpy(std::move(c.sig_pair));
  signals["z"] = to_numpy(std::move(c.sig_z));
  signals["hedge_ratio"] = to_numpy(std::move(c.sig_hedge));
  signals["action"] = c.sig_action;
  out["signals"] = signals;
  py::dict orders;
  orders["client_order_id"] = to_numpy(std::move(c.ord_id));
  orders["ts"] = to_numpy(std::move(c.ord_ts));
  orders["symbol"] = to_numpy(std::move(c.ord_symbol));
  orders["side"] = c.ord_side;
  orders["qty"] = to_numpy(std::move(c.ord_qty));
  orders["type"] = c.ord_type;
  orders["limit"] = to_numpy(std::move(c.ord_limit));
  orders["pair"] = to_numpy(std::move(c.ord_pair));
  out["orders"] = orders;
  py::dict executions;
  executions["client_order_id"] = to_numpy(std::move(c.ex_id));
  executions["ts"] = to_numpy(std::move(c.ex_ts));
  executions["symbol"] = to_numpy(std::move(c.ex_symbol));
  executions["side"] = c.ex_side;
  executions["qty"] = to_numpy(std::move(c.ex_qty));
  executions["price"] = to_numpy(std::move(c.ex_price));
  executions["fee"] = to_numpy(std::move(c.ex_fee));
  executions["status"] = c.ex_status;
  executions["reason"] = c.ex_reason;
  executions["pair"] = to_numpy(std::move(c.ex_pair));
  out["executions"] = executions;
  py::dict equity;
  equity["ts"] = to_numpy(std::move(c.pnl_ts));
  equity["cash"] = to_numpy(std::move(c.pnl_cash));
  equity["equity"] = to_numpy(std::move(c.pnl_equity));
  equity["gross_pnl"] = to_numpy(std::move(c.pnl_gross));
  equity["fees"] = to_numpy(std::move(c.pnl_fees));
  equity["net_pnl"] = to_numpy(std::move(c.pnl_net));
  out["equity"] = equity;
  py::dict controls;
  controls["ts"] = to_numpy(std::move(c.ctl_ts));
  controls["pair"] = to_numpy(std::move(c.ctl_pair));
  controls["action"] = c.ctl_action;
  controls["y"] = to_numpy(std::move(c.ctl_y));
  controls["x"] = to_numpy(std::move(c.ctl_x));
  controls["hedge_ratio"] = to_numpy(std::move(c.ctl_hedge));
  controls["pvalue"] = to_numpy(std::move(c.ctl_pvalue));
  controls["half_life"] = to_numpy(std::move(c.ctl_half_life));
  out["controls"] = controls;
  py::dict trades;
  {
    std::vector<std::int64_t> pair, open, close;
    std::vector<double> pnl, fees;
    std::vector<std::string> legs;
    for (const auto& t : trips) {
      pair.push_back(t.pair);
      legs.push_back(t.legs);
      open.push_back(t.open);
      close.push_back(t.close);
      pnl.push_back(t.pnl);
      fees.push_back(t.fees);
    }
    trades["pair"] = to_numpy(std::move(pair));
    trades["legs"] = legs;
    trades["open"] = to_numpy(std::move(open));
    trades["close"] = to_numpy(std::move(close));
    trades["pnl"] = to_numpy(std::move(pnl));
    trades["fees"] = to_numpy(std::move(fees));
  }
  out["trades"] = trades;
  return out;
}

}  // namespace

void bind_engine(py::module_& m) {
  m.def("feature_bars", &feature_bars, py::arg("path"), py::arg("columns"), py::arg("bars"),
        py::arg("indicators"), py::arg("lateness"), py::arg("max_rejects"));
  m.def("read_ticks", &read_ticks, py::arg("path"), py::arg("max_rejects"));
  m.def("gen_ticks", &gen_ticks, py::arg("config"), py::arg("sets"));
  m.def("gen_bars", &gen_bars, py::arg("config"), py::arg("sets"), py::arg("interval"));
  m.def("backtest", &backtest, py::arg("path"), py::arg("columns"), py::arg("config"),
        py::arg("sets"), py::arg("log_dir"), py::arg("max_rejects"));
}

}  // namespace pairflow::pymodule
