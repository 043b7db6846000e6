// EngineConfig: every setting of the embedded pipeline, loaded from TOML with command-line
// overrides. examples/demo.toml documents each key with its default.
//
// Loading is strict: an unknown section or key, a wrong type or an out-of-range value is a
// UserError naming the file and the key, so a typo never silently falls back to a default.
// Used at start-up only (exceptions allowed); any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exec/execution_stage.h"
#include "fix/fix_config.h"
#include "pairs/actors.h"
#include "pairs/pair_model.h"
#include "portfolio/portfolio.h"
#include "screen/orchestrator.h"
#include "screen/pair_discovery.h"
#include "screen/screener.h"
#include "sim/market.h"

namespace pairflow::engine {

// warmup: Engle-Granger on every pair once, after the warm-up window (screen/pair_discovery.h).
// screener: the streaming all-pairs screener re-screens every `screen_every` bars from warmup_bars
// on, over a window that grows to max_window bars and then rolls; the orchestrator activates / deactivates pairs with hysteresis, and the
// sharded pair actors trade them (screen/screener.h, screen/orchestrator.h, pairs/actors.h).
enum class DiscoveryMethod : std::uint8_t { kWarmup, kScreener };

// [ui]: the dashboard server (`pairflow demo`, and `pairflow run` when the pipeline asks).
struct UiToken {
  std::string token, role, name;  // role: "viewer" | "operator" | "admin"
};
struct UiSettings {
  std::string bind = "127.0.0.1";
  int port = 8080;                // 0 = any free port
  std::vector<UiToken> tokens;    // [[ui.tokens]]; none: random viewer and operator tokens, printed
  bool read_only = false;         // controls refused whatever the role
  int publish_ms = 200;           // how often tables and P&L are republished (wall clock)
  int stream_history = 4096;      // updates kept per stream for clients that resume
  std::string tls_cert, tls_key;  // PEM files: HTTPS and WSS only (both, or neither)
  std::string audit_log;          // controls, JSON lines; "" = control_audit.jsonl in the log dir
                                  // (or the working directory)
  std::string web_root;           // the built dashboard; "" = web/ next to bin/ of the binary
};

struct EngineConfig {
  sim::MarketSpec market;                    // [market]: the generated market (demo, gen)
  Timestamp bar_interval = kNanosPerMinute;  // [bars] interval
  int warmup_bars = 390;                     // [discovery] warmup_bars
  screen::DiscoveryConfig discovery;         // [discovery]
  pairs::PairModelConfig pair_model;         // [pair_model]
  portfolio::SizingConfig sizing;            // [portfolio]
  double initial_capital = 0;                // [portfolio] 0 = capital_per_pair * top_k
  exec::PaperConfig broker;                  // [broker]: fees and the paper fill model
  std::string broker_kind = "paper";         // [broker] kind: "paper" | "fix" (execution job)
  fix::GatewayConfig fix;                    // [fix]: the FIX session (broker.kind = "fix")
  exec::ExecConfig execution;                // [execution] legging, [risk] limits
  std::string journal;                       // [execution] journal: SQLite file ("" = none)
  bool journal_full_sync = true;             // [execution] journal_sync = "full" | "normal"
  std::string audit_log;                     // [execution] audit_log: kill switch JSON lines
  std::int64_t max_rejects = 0;              // [input] bad rows tolerated before failing; -1 = any
  double speed = 0;                          // [input] replay pace vs event time; 0 = flat out
  UiSettings ui;                             // [ui]
  DiscoveryMethod discovery_method = DiscoveryMethod::kScreener;  // [discovery] method
  // [screener]: settings of the screener mode that [discovery] and [pair_model] do not give.
  // The window, correction, p-value, cointegration options, half-life range, stability and
  // pairs-per-symbol come from [discovery]; the thresholds and window from [pair_model].
  int screen_every = 30;  // bars between screens
  // The screener's window: every bar since the first until it holds max_window bars, then the
  // last max_window; the first screen comes after warmup_bars. 0 = 4 x warmup_bars (measured in
  // docs/screener.md); = warmup_bars: a window of warmup_bars that rolls from the first screen.
  int max_window = 0;
  int actor_threads = 1;
  screen::ScreenerConfig screener;          // only its [screener] keys; see screener_config()
  screen::OrchestratorConfig orchestrator;  // only its [screener] keys; see orchestrator_config()
  // [pair_model] hedge: how the actors estimate the hedge ratio (rolling OLS over the window, or
  // the Kalman filter of stats/kalman.h with kalman_delta and kalman_ve).
  pairs::HedgeMethod hedge_method = pairs::HedgeMethod::kRollingOls;
  stats::KalmanHedgeOptions kalman{.delta = 1e-4, .ve = 0};  // ve 0: from the window's OLS

  double capital() const {
    return initial_capital > 0 ? initial_capital : sizing.capital_per_pair * discovery.top_k;
  }
};

// Reads a TOML file over the defaults. Throws UserError.
EngineConfig load_config(const std::string& path);
// Applies "section.key=value" overrides (value in TOML syntax; bare words are taken as strings).
void apply_overrides(EngineConfig& config, const std::vector<std::string>& overrides);
// Checks every field and the constraints between them. Throws UserError naming the key.
void validate(const EngineConfig& config);

// The settings of the engine's parts, resolved from the sections that give them: the screener's
// window, correction, p-value, cointegration options, half-life range, stability and
// pairs-per-symbol come from [discovery]; the orchestrator's capacity from discovery.top_k and
// its thresholds from [pair_model]; the actors' window, hedge method and threads from
// [pair_model] and [screener].
screen::ScreenerConfig screener_config(const EngineConfig& config);
// The execution stage's settings: [broker], [execution], [risk] and the portfolio's capital.
exec::StageConfig stage_config(const EngineConfig& config);
screen::OrchestratorConfig orchestrator_config(const EngineConfig& config);
pairs::ActorsConfig actors_config(const EngineConfig& config);

}  // namespace pairflow::engine
