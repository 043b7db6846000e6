#include "engine/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <set>
#include <sstream>

#include "stats/trend.h"

namespace pairflow::engine {
namespace {

// Reads keys of one table into the config, rejecting unknown keys and wrong types.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string source, std::string section)
      : table_(table), source_(std::move(source)), section_(std::move(section)) {}

  template <typename T>
  void read(const char* key, T& out) {
    seen_.insert(key);
    const toml::node* node = table_.get(key);
    if (!node) return;
    if constexpr (std::is_same_v<T, double>) {
      if (auto v = node->value<double>()) {
        if (!std::isfinite(*v)) fail(key, "a finite number");
        out = *v;
        return;
      }
      fail(key, "a number");
    } else if constexpr (std::is_same_v<T, bool>) {
      if (auto v = node->value_exact<bool>()) {
        out = *v;
        return;
      }
      fail(key, "true or false");
    } else if constexpr (std::is_integral_v<T>) {
      if (auto v = node->value_exact<std::int64_t>()) {
        if (*v < std::numeric_limits<T>::min() || *v > std::numeric_limits<T>::max()) {
          fail(key, "an integer in range");
        }
        out = static_cast<T>(*v);
        return;
      }
      fail(key, "an integer");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = node->value<std::string>()) {
        out = *v;
        return;
      }
      fail(key, "a string");
    }
  }

  // Durations accept "1m"-style strings or a number of seconds.
  void read_duration(const char* key, Timestamp& out, bool allow_zero = false) {
    seen_.insert(key);
    const toml::node* node = table_.get(key);
    if (!node) return;
    if (allow_zero) {
      const auto text = node->value<std::string>();
      const auto number = node->value<double>();
      if ((text && (*text == "0" || *text == "0s")) || (number && *number == 0)) {
        out = 0;
        return;
      }
    }
    Result<Timestamp> parsed = Status(StatusCode::kParseError, "");
    if (auto s = node->value<std::string>()) {
      parsed = parse_duration(*s);
    } else if (auto d = node->value<double>()) {
      parsed = parse_duration(fmt::format("{}s", *d));
    }
    if (!parsed) fail(key, "a duration such as \"1m\" or \"30s\"");
    out = *parsed;
  }

  void read_timestamp(const char* key, Timestamp& out) {
    std::string text;
    read(key, text);
    if (text.empty()) return;
    auto parsed = parse_timestamp(text);
    if (!parsed)
      throw UserError(
          fmt::format("{}: {}.{}: {}", source_, section_, key, parsed.status().message()));
    out = *parsed;
  }

  template <typename T, typename Parse>
  void read_enum(const char* key, T& out, Parse parse) {
    std::string text;
    read(key, text);
    if (text.empty()) return;
    auto parsed = parse(text);
    if (!parsed)
      throw UserError(
          fmt::format("{}: {}.{}: {}", source_, section_, key, parsed.status().message()));
    out = *parsed;
  }

  // A key read by the caller itself.
  void mark(const char* key) { seen_.insert(key); }

  void finish() const {
    for (const auto& [key, node] : table_) {
      if (!seen_.count(std::string(key.str()))) {
        throw UserError(fmt::format("{}: unknown key '{}.{}'", source_, section_, key.str()));
      }
    }
  }

 private:
  [[noreturn]] void fail(const char* key, const char* expected) const {
    throw UserError(fmt::format("{}: {}.{} must be {}", source_, section_, key, expected));
  }

  const toml::table& table_;
  std::string source_, section_;
  std::set<std::string> seen_;
};

void apply_table(EngineConfig& c, const toml::table& root, const std::string& source) {
  static const std::set<std::string> kSections = {
      "market", "bars",      "discovery", "screener", "pair_model", "portfolio",
      "broker", "execution", "risk",      "input",    "fix",        "ui"};
  for (const auto& [key, node] : root) {
    if (!kSections.count(std::string(key.str())) || !node.is_table()) {
      throw UserError(
          fmt::format("{}: unknown section '{}' (sections: market, bars, discovery, "
                      "screener, pair_model, portfolio, broker, execution, risk, fix, input, ui)",
                      source, key.str()));
    }
  }
  auto section = [&](const char* name) -> const toml::table* { return root[name].as_table(); };

  if (auto t = section("market")) {
    TableReader r(*t, source, "market");
    std::int64_t seed = static_cast<std::int64_t>(c.market.seed);
    r.read("seed", seed);
    c.market.seed = static_cast<std::uint64_t>(seed);
    r.read("symbols", c.market.symbols);
    r.read("sectors", c.market.sectors);
    r.read("planted_pairs", c.market.planted_pairs);
    r.read("inverse_fraction", c.market.inverse_fraction);
    r.read("sessions", c.market.sessions);
    r.read_timestamp("start", c.market.start);
    r.read_duration("session_length", c.market.session_length);
    r.read("mean_tick_interval_s", c.market.mean_tick_interval_s);
    r.read("market_daily_vol", c.market.market_daily_vol);
    r.read("sector_daily_vol", c.market.sector_daily_vol);
    r.read("idio_daily_vol", c.market.idio_daily_vol);
    r.read("min_half_life_s", c.market.min_half_life_s);
    r.read("max_half_life_s", c.market.max_half_life_s);
    r.read("spread_std", c.market.spread_std);
    r.read("bid_ask_bps", c.market.bid_ask_bps);
    r.finish();
  }
  if (auto t = section("bars")) {
    TableReader r(*t, source, "bars");
    r.read_duration("interval", c.bar_interval);
    r.finish();
  }
  if (auto t = section("discovery")) {
    TableReader r(*t, source, "discovery");
    r.read("warmup_bars", c.warmup_bars);
    r.read("top_k", c.discovery.top_k);
    r.read("max_pvalue", c.discovery.max_pvalue);
    r.read_enum("correction", c.discovery.correction, screen::parse_correction);
    r.read_enum("trend", c.discovery.coint.trend, stats::parse_trend);
    r.read_enum("autolag", c.discovery.coint.autolag, stats::parse_autolag);
    int maxlag = c.discovery.coint.maxlag.value_or(-1);
    r.read("maxlag", maxlag);
    if (maxlag >= 0) c.discovery.coint.maxlag = maxlag;
    r.read("min_half_life", c.discovery.min_half_life);
    r.read("max_half_life", c.discovery.max_half_life);
    r.read("min_coverage", c.discovery.min_coverage);
    r.read("max_pairs_per_symbol", c.discovery.max_pairs_per_symbol);
    r.read("stability_splits", c.discovery.stability_splits);
    r.read_enum("method", c.discovery_method, [](std::string_view v) -> Result<DiscoveryMethod> {
      if (v == "warmup") return DiscoveryMethod::kWarmup;
      if (v == "screener") return DiscoveryMethod::kScreener;
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("method must be 'warmup' or 'screener', got '{}'", v));
    });
    r.read("stability_pvalue", c.discovery.stability_pvalue);
    r.finish();
  }
  if (auto t = section("screener")) {
    TableReader r(*t, source, "screener");
    r.read("screen_every", c.screen_every);
    r.read("max_window", c.max_window);
    r.read("activate_after", c.orchestrator.activate_after);
    r.read("deactivate_after", c.orchestrator.deactivate_after);
    r.read("neighbours", c.screener.neighbours);
    r.read_enum("pair_test", c.screener.pair_test, screen::parse_pair_test);
    r.read("min_abs_corr", c.screener.min_abs_corr);
    r.read("prescreen_pvalue", c.screener.prescreen_pvalue);
    r.read("max_hurst", c.screener.max_hurst);
    r.read("min_crossings", c.screener.min_crossings);
    r.read("min_leg_margin", c.screener.min_leg_margin);
    r.read("consistent_triangles", c.screener.consistent_triangles);
    r.read("threads", c.actor_threads);
    r.finish();
  }
  if (auto t = section("pair_model")) {
    TableReader r(*t, source, "pair_model");
    r.read("window", c.pair_model.window);
    r.read("entry_z", c.pair_model.entry_z);
    r.read("exit_z", c.pair_model.exit_z);
    r.read("stop_z", c.pair_model.stop_z);
    r.read("max_hold_bars", c.pair_model.max_hold_bars);
    r.read_enum("hedge", c.hedge_method, [](std::string_view v) -> Result<pairs::HedgeMethod> {
      if (v == "ols") return pairs::HedgeMethod::kRollingOls;
      if (v == "kalman") return pairs::HedgeMethod::kKalman;
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("hedge must be 'ols' or 'kalman', got '{}'", v));
    });
    r.read("kalman_delta", c.kalman.delta);
    r.read("kalman_ve", c.kalman.ve);
    r.finish();
  }
  if (auto t = section("portfolio")) {
    TableReader r(*t, source, "portfolio");
    r.read("capital_per_pair", c.sizing.capital_per_pair);
    r.read("initial_capital", c.initial_capital);
    r.read_enum("hedge", c.sizing.hedge, portfolio::parse_hedge_mode);
    r.finish();
  }
  if (auto t = section("broker")) {
    TableReader r(*t, source, "broker");
    exec::PaperConfig& b = c.broker;
    r.read("kind", c.broker_kind);
    if (c.broker_kind != "paper" && c.broker_kind != "fix")
      throw UserError(
          fmt::format("{}: broker.kind must be 'paper' or 'fix', got '{}'", source, c.broker_kind));
    r.read("commission_per_share", b.fees.commission_per_share);
    r.read("commission_bps", b.fees.commission_bps);
    r.read("min_fee_per_order", b.fees.min_per_order);
    r.read_duration("latency", b.latency, /*allow_zero=*/true);
    r.read_duration("latency_jitter", b.latency_jitter, /*allow_zero=*/true);
    std::int64_t seed = static_cast<std::int64_t>(b.seed);
    r.read("seed", seed);
    b.seed = static_cast<std::uint64_t>(seed);
    r.read("slippage_bps", b.slippage_bps);
    r.read("depth_levels", b.depth_levels);
    r.read("level_step_bps", b.level_step_bps);
    r.finish();
  }
  if (auto t = section("execution")) {
    TableReader r(*t, source, "execution");
    exec::LeggingConfig& l = c.execution.legging;
    r.read_enum("legging", l.policy, [](std::string_view v) -> Result<exec::LeggingPolicy> {
      if (v == "unwind") return exec::LeggingPolicy::kUnwind;
      if (v == "chase") return exec::LeggingPolicy::kChase;
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("legging must be 'unwind' or 'chase', got '{}'", v));
    });
    r.read_duration("leg_timeout", l.leg_timeout, /*allow_zero=*/true);
    r.read("chase_slippage_bps", l.chase_slippage_bps);
    r.read("max_attempts", l.max_attempts);
    r.read("journal", c.journal);
    std::string sync = c.journal_full_sync ? "full" : "normal";
    r.read("journal_sync", sync);
    if (sync != "full" && sync != "normal")
      throw UserError(fmt::format("{}: execution.journal_sync must be 'full' or 'normal', got '{}'",
                                  source, sync));
    c.journal_full_sync = sync == "full";
    r.read("audit_log", c.audit_log);
    r.finish();
  }
  if (auto t = section("fix")) {
    TableReader r(*t, source, "fix");
    fix::GatewayConfig& f = c.fix;
    r.read("host", f.session.host);
    r.read("port", f.session.port);
    r.read("sender_comp_id", f.session.sender_comp_id);
    r.read("target_comp_id", f.session.target_comp_id);
    r.read("heartbeat_s", f.session.heartbeat_s);
    r.read("reconnect_s", f.session.reconnect_s);
    r.read("store", f.session.store);
    r.read("store_path", f.session.store_path);
    r.read("log_path", f.session.log_path);
    r.read("throttle_per_s", f.throttle_per_s);
    std::int64_t queue = static_cast<std::int64_t>(f.queue_limit);
    r.read("queue_limit", queue);
    if (queue < 1) throw UserError(fmt::format("{}: fix.queue_limit must be >= 1", source));
    f.queue_limit = static_cast<std::size_t>(queue);
    r.read("logon_timeout_s", f.logon_timeout_s);
    r.read("status_timeout_s", f.status_timeout_s);
    r.read("account", f.account);
    r.finish();
  }
  if (auto t = section("risk")) {
    TableReader r(*t, source, "risk");
    exec::RiskLimits& k = c.execution.risk;
    r.read("max_order_qty", k.max_order_qty);
    r.read("max_order_notional", k.max_order_notional);
    r.read("max_position_qty", k.max_position_qty);
    r.read("max_position_notional", k.max_position_notional);
    r.read("max_gross_exposure", k.max_gross_exposure);
    r.read("max_net_exposure", k.max_net_exposure);
    r.read("max_pair_capital", k.max_pair_capital);
    r.read("price_collar_bps", k.price_collar_bps);
    r.read_duration("max_quote_age", k.max_quote_age, /*allow_zero=*/true);
    r.read("max_orders_per_second", k.max_orders_per_second);
    r.read_duration("duplicate_window", k.duplicate_window, /*allow_zero=*/true);
    r.read("daily_loss_limit", k.daily_loss_limit);
    r.read("max_drawdown", k.max_drawdown);
    r.read("max_unhedged_notional", k.max_unhedged_notional);
    r.read_enum("on_breach", k.on_breach, [](std::string_view v) -> Result<exec::TradingState> {
      if (v == "reduce_only") return exec::TradingState::kReduceOnly;
      if (v == "halted") return exec::TradingState::kHalted;
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("on_breach must be 'reduce_only' or 'halted', got '{}'", v));
    });
    r.finish();
  }
  if (auto t = section("input")) {
    TableReader r(*t, source, "input");
    r.read("max_rejects", c.max_rejects);
    r.read("speed", c.speed);
    r.finish();
  }
  if (auto t = section("ui")) {
    TableReader r(*t, source, "ui");
    r.read("bind", c.ui.bind);
    r.read("port", c.ui.port);
    r.read("read_only", c.ui.read_only);
    r.read("publish_ms", c.ui.publish_ms);
    r.read("stream_history", c.ui.stream_history);
    r.read("tls_cert", c.ui.tls_cert);
    r.read("tls_key", c.ui.tls_key);
    r.read("audit_log", c.ui.audit_log);
    r.read("web_root", c.ui.web_root);
    r.mark("tokens");
    r.finish();
    if (const toml::node* tokens = t->get("tokens")) {
      const toml::array* list = tokens->as_array();
      if (!list) throw UserError(fmt::format("{}: ui.tokens must be an array of tables", source));
      c.ui.tokens.clear();
      for (std::size_t i = 0; i < list->size(); ++i) {
        const toml::table* entry = list->get(i)->as_table();
        const std::string where = fmt::format("ui.tokens[{}]", i);
        if (!entry) throw UserError(fmt::format("{}: {} must be a table", source, where));
        TableReader e(*entry, source, where);
        UiToken token;
        e.read("token", token.token);
        e.read("role", token.role);
        e.read("name", token.name);
        e.finish();
        c.ui.tokens.push_back(std::move(token));
      }
    }
  }
}

toml::table parse_or_throw(std::string_view text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw UserError(fmt::format("{}:{}: {}", source, where.line, e.description()));
  }
}

}  // namespace

EngineConfig load_config(const std::string& path) {
  EngineConfig config;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw UserError(fmt::format("{}: cannot read config: not a regular file", path));
  }
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    if (where.line == 0)
      throw UserError(fmt::format("{}: cannot read config: {}", path, e.description()));
    throw UserError(fmt::format("{}:{}: {}", path, where.line, e.description()));
  }
  apply_table(config, root, path);
  validate(config);
  return config;
}

void apply_overrides(EngineConfig& config, const std::vector<std::string>& overrides) {
  for (const std::string& item : overrides) {
    auto eq = item.find('=');
    auto dot = item.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq) {
      throw UserError(fmt::format("--set '{}': expected section.key=value", item));
    }
    std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    std::string source = fmt::format("--set {}", key);
    toml::table table;
    try {
      table = toml::parse(fmt::format("{} = {}", key, value), source);
    } catch (const toml::parse_error&) {
      // A bare word such as beta or bonferroni: take it as a string.
      table = parse_or_throw(fmt::format("{} = \"{}\"", key, value), source);
    }
    apply_table(config, table, "--set");
  }
  validate(config);
}

void validate(const EngineConfig& c) {
  auto require = [](bool ok, const std::string& message) {
    if (!ok) throw UserError("config: " + message);
  };
  require(c.warmup_bars >= 20,
          fmt::format("discovery.warmup_bars must be >= 20, got {}", c.warmup_bars));
  // 0 used to mean one pair in the screener mode and none (with capital for one) in the warm-up
  // mode; a run that trades nothing is not a configuration.
  require(c.discovery.top_k >= 1,
          fmt::format("discovery.top_k must be >= 1 (pairs traded at once), got {}",
                      c.discovery.top_k));
  require(c.discovery.max_pvalue > 0 && c.discovery.max_pvalue <= 1,
          "discovery.max_pvalue must be in (0, 1]");
  require(c.discovery.min_half_life >= 0 && c.discovery.max_half_life >= 0,
          "discovery.min_half_life and max_half_life must be >= 0");
  require(c.discovery.min_coverage >= 0 && c.discovery.min_coverage <= 1,
          "discovery.min_coverage must be in [0, 1]");
  require(c.discovery.max_pairs_per_symbol >= 1, "discovery.max_pairs_per_symbol must be >= 1");
  require(c.discovery.stability_splits >= 0 && c.discovery.stability_splits <= c.warmup_bars / 20,
          "discovery.stability_splits must be in [0, warmup_bars / 20]");
  require(c.discovery.stability_pvalue > 0 && c.discovery.stability_pvalue <= 1,
          "discovery.stability_pvalue must be in (0, 1]");
  require(c.pair_model.window >= 3 && c.pair_model.window <= c.warmup_bars,
          fmt::format("pair_model.window must be in [3, warmup_bars={}], got {}", c.warmup_bars,
                      c.pair_model.window));
  require(c.pair_model.exit_z >= 0 && c.pair_model.exit_z < c.pair_model.entry_z &&
              c.pair_model.entry_z < c.pair_model.stop_z,
          "pair_model thresholds must satisfy 0 <= exit_z < entry_z < stop_z");
  require(c.pair_model.max_hold_bars >= 0, "pair_model.max_hold_bars must be >= 0");
  require(c.sizing.capital_per_pair > 0, "portfolio.capital_per_pair must be > 0");
  require(c.initial_capital >= 0, "portfolio.initial_capital must be >= 0");
  const exec::PaperConfig& b = c.broker;
  require(
      b.fees.commission_per_share >= 0 && b.fees.commission_bps >= 0 && b.fees.min_per_order >= 0,
      "broker commissions and min_fee_per_order must be >= 0");
  require(b.slippage_bps >= 0 && b.slippage_bps <= 1e4 && b.level_step_bps >= 0 &&
              b.level_step_bps <= 1e4,
          "broker.slippage_bps and level_step_bps must be in [0, 10000]");
  require(b.depth_levels >= 1 && b.depth_levels <= 1000,
          "broker.depth_levels must be in [1, 1000]");
  const exec::LeggingConfig& l = c.execution.legging;
  require(l.max_attempts >= 1 && l.max_attempts <= 100,
          "execution.max_attempts must be in [1, 100]");
  require(l.chase_slippage_bps >= 0 && l.chase_slippage_bps <= 1e4,
          "execution.chase_slippage_bps must be in [0, 10000]");
  const exec::RiskLimits& k = c.execution.risk;
  for (auto [name, v] : {std::pair{"max_order_qty", k.max_order_qty},
                         {"max_order_notional", k.max_order_notional},
                         {"max_position_qty", k.max_position_qty},
                         {"max_position_notional", k.max_position_notional},
                         {"max_gross_exposure", k.max_gross_exposure},
                         {"max_net_exposure", k.max_net_exposure},
                         {"max_pair_capital", k.max_pair_capital},
                         {"price_collar_bps", k.price_collar_bps},
                         {"max_orders_per_second", k.max_orders_per_second},
                         {"daily_loss_limit", k.daily_loss_limit},
                         {"max_drawdown", k.max_drawdown},
                         {"max_unhedged_notional", k.max_unhedged_notional}}) {
    require(v >= 0, fmt::format("risk.{} must be >= 0 (0 = no limit), got {}", name, v));
  }
  const fix::GatewayConfig& f = c.fix;
  require(f.session.port >= 1 && f.session.port <= 65535, "fix.port must be in [1, 65535]");
  require(!f.session.sender_comp_id.empty() && !f.session.target_comp_id.empty(),
          "fix.sender_comp_id and target_comp_id must not be empty");
  require(f.session.heartbeat_s >= 1 && f.session.reconnect_s >= 1,
          "fix.heartbeat_s and reconnect_s must be >= 1");
  require(f.session.store == "memory" || f.session.store == "file",
          "fix.store must be 'memory' or 'file'");
  require(f.session.store != "file" || !f.session.store_path.empty(),
          "fix.store = 'file' needs fix.store_path");
  require(f.throttle_per_s >= 0, "fix.throttle_per_s must be >= 0 (0 = no limit)");
  require(f.logon_timeout_s > 0 && f.status_timeout_s > 0,
          "fix.logon_timeout_s and status_timeout_s must be > 0");
  require(c.max_rejects >= -1, "input.max_rejects must be >= -1");
  require(c.screen_every >= 1, "screener.screen_every must be >= 1");
  require(c.max_window == 0 || c.max_window >= c.warmup_bars,
          fmt::format("screener.max_window must be 0 (= 4 x discovery.warmup_bars) or >= "
                      "discovery.warmup_bars = {}, got {}",
                      c.warmup_bars, c.max_window));
  require(c.actor_threads >= 1 && c.actor_threads <= 64, "screener.threads must be in [1, 64]");
  if (Status s = screen::Screener::validate(screener_config(c)); !s)
    throw UserError("config: screener: " + s.message());
  if (Status s = screen::Orchestrator::validate(orchestrator_config(c)); !s)
    throw UserError("config: screener: " + s.message());
  require(c.kalman.delta >= 0 && c.kalman.delta < 1 && c.kalman.ve >= 0,
          "pair_model.kalman_delta must be in [0, 1) and kalman_ve >= 0 (0: estimated)");
  require(c.speed == 0 || (c.speed >= 1e-6 && c.speed <= 1e12),
          "input.speed must be 0 (as fast as possible) or in [1e-6, 1e12]");
  require(c.ui.port >= 0 && c.ui.port <= 65535, "ui.port must be in [0, 65535]");
  require(c.ui.tls_cert.empty() == c.ui.tls_key.empty(),
          "ui.tls_cert and ui.tls_key go together (both PEM files, or neither)");
  require(c.ui.stream_history >= 16 && c.ui.stream_history <= 1000000,
          "ui.stream_history must be in [16, 1000000]");
  require(c.ui.publish_ms >= 10 && c.ui.publish_ms <= 60000,
          "ui.publish_ms must be in [10, 60000]");
  for (std::size_t i = 0; i < c.ui.tokens.size(); ++i) {
    const UiToken& t = c.ui.tokens[i];
    require(t.token.size() >= 16,
            fmt::format("ui.tokens[{}].token must be at least 16 characters", i));
    require(t.role == "viewer" || t.role == "operator" || t.role == "admin",
            fmt::format("ui.tokens[{}].role must be viewer, operator or admin", i));
  }
  require(c.sizing.capital_per_pair <= 1e15 && c.initial_capital <= 1e18,
          "portfolio capital must be at most 1e15 per pair");
}

exec::StageConfig stage_config(const EngineConfig& c) {
  exec::StageConfig s;
  s.exec = c.execution;
  s.paper = c.broker;
  s.initial_capital = c.capital();
  s.journal_path = c.journal;
  s.journal_full_sync = c.journal_full_sync;
  s.audit_path = c.audit_log;
  return s;
}

screen::ScreenerConfig screener_config(const EngineConfig& c) {
  // The screener lists every pair that passes; the per-symbol limit is the orchestrator's (and the
  // warm-up discovery's top_k): trading capacity, not evidence.
  screen::ScreenerConfig s = c.discovery.selection(c.screener);
  s.window = c.max_window > 0 ? c.max_window : 4 * c.warmup_bars;
  s.min_window = c.warmup_bars + 1;  // a symbol that starts late is screened after a warm-up too
  return s;
}

screen::OrchestratorConfig orchestrator_config(const EngineConfig& c) {
  screen::OrchestratorConfig o = c.orchestrator;
  o.max_active = c.discovery.top_k;
  o.max_pairs_per_symbol = c.discovery.max_pairs_per_symbol;
  o.entry_z = c.pair_model.entry_z;
  o.exit_z = c.pair_model.exit_z;
  o.stop_z = c.pair_model.stop_z;
  o.max_hold_bars = c.pair_model.max_hold_bars;
  return o;
}

pairs::ActorsConfig actors_config(const EngineConfig& c) {
  pairs::ActorsConfig a;
  a.window = c.pair_model.window;
  a.hedge = c.hedge_method;
  a.kalman = c.kalman;
  a.threads = c.actor_threads;
  return a;
}

}  // namespace pairflow::engine
