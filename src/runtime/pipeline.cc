#include "runtime/pipeline.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "model/json.h"

namespace pairflow::runtime {

namespace {
void write_line(std::FILE* f, const std::string& line) {
  if (!f) return;
  std::fwrite(line.data(), 1, line.size(), f);
  std::fputc('\n', f);
}
}  // namespace

RunLog::RunLog(const std::string& dir, const SymbolTable& symbols) : dir_(dir), symbols_(symbols) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw UserError(fmt::format("{}: cannot create log directory: {}", dir, ec.message()));
  auto open = [&](const char* name) {
    std::string path = fmt::format("{}/{}", dir, name);
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw UserError(fmt::format("{}: cannot write", path));
    return f;
  };
  signals = open("signals.jsonl");
  orders = open("orders.jsonl");
  executions = open("executions.jsonl");
  pnl = open("pnl.jsonl");
}

RunLog::~RunLog() {
  for (std::FILE* f : {signals, orders, executions, pnl})
    if (f) std::fclose(f);
}

void RunLog::close() {
  bool ok = true;
  for (std::FILE** f : {&signals, &orders, &executions, &pnl}) {
    if (*f) {
      ok = !std::ferror(*f) && ok;
      ok = std::fclose(*f) == 0 && ok;
      *f = nullptr;
    }
  }
  if (!ok) throw UserError(fmt::format("{}: writing the run logs failed", dir_));
}

void RunLog::on_signal(const Signal& signal) { write_line(signals, to_json(signal)); }
void RunLog::on_order(const Order& order) { write_line(orders, to_json(order, symbols_)); }
void RunLog::on_execution(const Execution& execution) {
  write_line(executions, to_json(execution, symbols_));
}
void RunLog::on_pnl(const PnL& p) { write_line(pnl, to_json(p)); }

Pipeline::Pipeline(const PipelineConfig& config, const SymbolTable& symbols, PipelineObserver* log)
    : config_(config),
      symbols_(symbols),
      log_(log),
      bars_(config.bar_interval),
      broker_(config.fees),
      portfolio_(config.capital(), config.sizing) {
  validate(config_);
}

Status Pipeline::reject(RejectReason reason, std::string detail) {
  if (location_) detail = location_->where(detail);
  return counted(reason, std::move(detail));
}

Status Pipeline::counted(RejectReason reason, std::string detail) {
  auto i = static_cast<int>(reason);
  if (rejects_[i]++ == 0) first_reject_[i] = detail;
  return Status(StatusCode::kInvalidArgument, std::move(detail));
}

void Pipeline::count_reject(RejectReason reason, const std::string& detail) {
  (void)counted(reason, detail);
}

Status Pipeline::on_tick(const Tick& tick) {
  if (tick.symbol >= symbols_.size())
    return reject(RejectReason::kUnknownSymbol, fmt::format("unknown symbol id {}", tick.symbol));
  std::string detail;
  if (auto reason = check_tick_values(tick, &detail)) return reject(*reason, std::move(detail));
  if (tick.ts < last_ts_) {
    return reject(RejectReason::kOutOfOrder,
                  fmt::format("timestamp {} is before the previous tick's {}",
                              format_timestamp(tick.ts), format_timestamp(last_ts_)));
  }
  last_ts_ = tick.ts;
  ++ticks_;
  // Bars first: a slice closed by this tick trades on the quotes of the closed interval.
  Status status = bars_.on_tick(
      tick, [this](Timestamp start, std::span<const Bar> bars) { on_slice(start, bars); });
  PAIRFLOW_CHECK(status.is_ok(), "bar aggregator rejected an in-order tick");
  broker_.on_tick(tick);
  return Status::ok();
}

void Pipeline::finish() {
  bars_.flush([this](Timestamp start, std::span<const Bar> bars) { on_slice(start, bars); });
}

void Pipeline::on_slice(Timestamp start, std::span<const Bar> bars) {
  const Timestamp now = start + config_.bar_interval;
  ++slices_;
  bars_count_ += bars.size();
  last_slice_ = now;
  if (last_close_.size() < symbols_.size()) last_close_.resize(symbols_.size(), kNaN);
  for (const Bar& bar : bars) last_close_[bar.symbol] = bar.close;

  if (config_.discovery_method == DiscoveryMethod::kScreener) {
    screener_slice(now);
  } else if (!discovered_) {
    // Record the warm-up window; symbols first seen late get NaN for the slices before.
    while (warmup_.size() < symbols_.size()) warmup_.emplace_back(slices_ - 1, kNaN);
    for (std::size_t s = 0; s < warmup_.size(); ++s) {
      warmup_[s].push_back(s < last_close_.size() && std::isfinite(last_close_[s])
                               ? std::log(last_close_[s])
                               : kNaN);
    }
    if (slices_ >= static_cast<std::size_t>(config_.warmup_bars)) discover(now);
  } else {
    signals_.clear();
    for (auto& model : models_) {
      const auto& book = portfolio_.pairs()[model.id()];
      Signal signal =
          model.on_bar(now, std::log(last_close_[book.y]), std::log(last_close_[book.x]));
      if (signal.action != SignalAction::kHold) signals_.push_back(signal);
    }
    trade_slice(now);
  }
  for (const Bar& bar : bars) portfolio_.mark(bar.symbol, bar.close);
  if (discovered_) {
    PnL pnl = portfolio_.pnl(now);
    if (equity_.empty()) first_trading_slice_ = now;
    equity_.push_back(pnl.equity);
    if (log_) log_->on_pnl(pnl);
  }
}

void Pipeline::discover(Timestamp now) {
  discovered_ = true;
  auto result = screen::discover_pairs(warmup_, config_.discovery);
  PAIRFLOW_CHECK(result.is_ok(),
                 "validated discovery config was refused: " + result.status().message());
  discovery_ = std::move(*result);
  active_ = discovery_.selected;
  const std::size_t window = static_cast<std::size_t>(config_.pair_model.window);
  for (const auto& c : active_) {
    PairId id = portfolio_.add_pair(c.y, c.x);
    pairs::PairModel model(id, config_.pair_model);
    const auto& ys = warmup_[c.y];
    const auto& xs = warmup_[c.x];
    const std::size_t from = ys.size() > window ? ys.size() - window : 0;
    model.seed(std::span(ys).subspan(from), std::span(xs).subspan(from));
    models_.push_back(std::move(model));
  }
  warmup_.clear();
  warmup_.shrink_to_fit();
  (void)now;
}

void Pipeline::screener_slice(Timestamp now) {
  if (!screener_) {
    // The universe is fixed when the first bar closes (symbols first seen later are not screened).
    universe_ = static_cast<int>(symbols_.size());
    screener_ = std::make_unique<screen::Screener>(universe_, config_.screener);
    orchestrator_ = std::make_unique<screen::Orchestrator>(config_.orchestrator);
    pairs::ActorsConfig actors;
    actors.window = config_.pair_model.window;
    actors.threads = config_.actor_threads;
    actors_ = std::make_unique<pairs::PairActors>(universe_, actors);
  }
  log_close_.assign(universe_, kNaN);
  for (int s = 0; s < universe_; ++s) {
    if (std::isfinite(last_close_[s])) log_close_[s] = std::log(last_close_[s]);
  }
  screener_->on_bar(log_close_);
  // Existing pairs trade this bar; a screen's activations take effect from the next one.
  auto stepped = actors_->step(now, log_close_);
  signals_.assign(stepped.begin(), stepped.end());
  trade_slice(now);
  const auto warmup = static_cast<std::size_t>(config_.warmup_bars);
  if (slices_ < warmup) return;
  discovered_ = true;
  if ((slices_ - warmup) % static_cast<std::size_t>(config_.screen_every) != 0) return;
  screener_->screen(screen_result_);
  controls_.clear();
  orchestrator_->on_screen(
      now, screen_result_,
      [this](PairId id) {
        const auto& book = portfolio_.pairs()[id];
        return actors_->state(id) == pairs::PairState::kFlat && book.qty_y == 0 && book.qty_x == 0;
      },
      controls_);
  for (const screen::PairControl& c : controls_) {
    if (log_) log_->on_control(c);
    if (c.action == screen::ControlAction::kDeactivate) {
      actors_->post_deactivate(c.pair);
      continue;
    }
    PairId id = portfolio_.add_pair(c.y, c.x);
    PAIRFLOW_CHECK(id == c.pair, "orchestrator and portfolio disagree on pair ids");
    screener_->window_levels(c.y, seed_y_);
    screener_->window_levels(c.x, seed_x_);
    // Window levels are relative to a per-symbol reference; shift them back to absolute logs.
    const double shift_y = log_close_[c.y] - seed_y_.back();
    const double shift_x = log_close_[c.x] - seed_x_.back();
    for (double& v : seed_y_) v += shift_y;
    for (double& v : seed_x_) v += shift_x;
    const std::size_t keep =
        std::min(seed_y_.size(), static_cast<std::size_t>(config_.pair_model.window));
    actors_->post_activate(pairs::PairSpec{.id = id,
                                           .y = c.y,
                                           .x = c.x,
                                           .entry_z = c.entry_z,
                                           .exit_z = c.exit_z,
                                           .stop_z = c.stop_z,
                                           .max_hold_bars = c.max_hold_bars},
                           std::span(seed_y_).last(keep), std::span(seed_x_).last(keep));
    screen::PairCandidate summary;
    summary.y = c.y;
    summary.x = c.x;
    summary.hedge_ratio = c.hedge_ratio;
    summary.intercept = c.intercept;
    summary.pvalue = c.pvalue;
    summary.adj_pvalue = c.pvalue;
    summary.half_life = c.half_life;
    active_.push_back(summary);
  }
  discovery_.tests = static_cast<int>(screen_result_.tests);
  discovery_.passing.assign(screen_result_.candidates.size(), screen::PairCandidate{});
}

void Pipeline::trade_slice(Timestamp now) {
  bool changed = false;
  const auto fill_price = [this](SymbolId s, Side side) { return broker_.fill_price(s, side); };
  const auto fee = [this](double qty, double price) { return broker_.fees().fee(qty, price); };
  for (const Signal& signal : signals_) {
    const auto& book = portfolio_.pairs()[signal.pair];
    if (log_) log_->on_signal(signal);
    Status s =
        portfolio_.apply_signal(signal, broker_.mid(book.y), broker_.mid(book.x), fill_price, fee);
    if (!s) {
      // Counted, and the pair's model goes back to flat so it matches the unchanged book.
      if (refused_signals_++ == 0) first_refused_signal_ = s.message();
      if (actors_) {
        actors_->post_force_flat(signal.pair);
      } else {
        models_[signal.pair].force_flat();
      }
      continue;
    }
    changed = true;
  }
  if (!changed) return;
  orders_.clear();
  portfolio_.make_orders(now, next_order_id_, orders_);
  for (const Order& order : orders_) {
    Execution execution = broker_.execute(order);
    if (log_) {
      log_->on_order(order);
      log_->on_execution(execution);
    }
    if (execution.status == ExecStatus::kRejected) {
      ++rejected_orders_;
      continue;
    }
    ++fills_;
    portfolio_.on_fill(execution);
  }
}

Summary Pipeline::summary() const {
  Summary s;
  s.ticks = ticks_;
  for (int i = 0; i < static_cast<int>(RejectReason::kCount); ++i) {
    if (rejects_[i] == 0) continue;
    s.rejected_ticks += rejects_[i];
    s.rejects[reject_reason_name(static_cast<RejectReason>(i))] = rejects_[i];
    s.first_reject[reject_reason_name(static_cast<RejectReason>(i))] = first_reject_[i];
  }
  s.bars = bars_count_;
  s.slices = slices_;
  s.symbols = static_cast<int>(symbols_.size());
  s.orders = next_order_id_ - 1;
  s.fills = fills_;
  s.rejected_orders = rejected_orders_;
  s.refused_signals = refused_signals_;
  s.first_refused_signal = first_refused_signal_;
  s.warmup_bars = config_.warmup_bars;
  s.warmup_complete = discovered_;
  s.initial_capital = config_.capital();
  PnL pnl = portfolio_.pnl(last_slice_);
  s.gross_pnl = pnl.gross_pnl;
  s.net_pnl = pnl.net_pnl;
  s.fees = pnl.fees;
  s.discovery_tests = discovery_.tests;
  s.discovery_passing = static_cast<int>(discovery_.passing.size());
  for (std::size_t p = 0; p < active_.size(); ++p) {
    const auto& c = active_[p];
    PairSummary ps;
    ps.y = symbols_.name(c.y);
    ps.x = symbols_.name(c.x);
    ps.hedge_ratio = c.hedge_ratio;
    ps.intercept = c.intercept;
    ps.pvalue = c.pvalue;
    ps.adj_pvalue = c.adj_pvalue;
    ps.half_life = c.half_life;
    ps.trades = portfolio_.pairs()[p].trades;
    ps.net_pnl = portfolio_.pair_net_pnl(static_cast<PairId>(p));
    s.trades += ps.trades;
    s.pairs.push_back(ps);
  }
  // Sharpe from per-bar equity changes relative to capital, annualised with 252 sessions of
  // 6.5 hours of bars; drawdown from the same equity curve (starting at the initial capital).
  if (equity_.size() >= 2) {
    double sum = 0, sum2 = 0;
    double prev = config_.capital();
    for (double e : equity_) {
      const double r = (e - prev) / config_.capital();
      sum += r;
      sum2 += r * r;
      prev = e;
    }
    const double n = static_cast<double>(equity_.size());
    const double mean = sum / n;
    const double var = std::max(0.0, sum2 / n - mean * mean) * n / (n - 1);
    const double bars_per_year =
        252.0 * 6.5 * kNanosPerHour / static_cast<double>(config_.bar_interval);
    s.sharpe = var > 0 ? mean / std::sqrt(var) * std::sqrt(bars_per_year) : 0.0;
  }
  double peak = config_.capital();
  for (double e : equity_) {
    peak = std::max(peak, e);
    if (peak - e > s.max_drawdown) {
      s.max_drawdown = peak - e;
      s.max_drawdown_pct = (peak - e) / peak;
    }
  }
  return s;
}

}  // namespace pairflow::runtime
