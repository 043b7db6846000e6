# spread_zscore.R: rolling z-score of one pair's log-price spread, computed from bars.
#
# Parameters (pipeline file or --param k=v):
#   y, x         the pair's symbols (required); spread = log(close_y) - hedge_ratio * log(close_x)
#   hedge_ratio  default 1
#   window       bars in the rolling mean / standard deviation, default 60
#   alert_z      |z| at or beyond it also publishes an alert to the "alerts" topic, default 2.5
# Input: bars {"ts", "symbol", "close", ...}. Output, once per bar time with both legs present and
# a full window: {"ts", "y", "x", "spread", "mean", "sd", "z"}.
# State (pairflow_state, saved at checkpoints): each leg's last bar and the window of spreads, so
# a restarted job resumes with a full window instead of warming up again.

# Configuration, filled in by setup(). Defined here so that `cfg <<-` in setup() assigns this
# variable of the job's own environment (and not a global one).
cfg <- NULL

param <- function(params, name, default) {
  value <- params[[name]]
  if (is.null(value)) default else value
}

setup <- function(ctx) {
  p <- ctx$params
  if (is.null(p$y) || is.null(p$x)) stop("parameters y and x (the pair's symbols) are required")
  cfg <<- list(y = p$y, x = p$x, beta = param(p, "hedge_ratio", 1),
               window = as.integer(param(p, "window", 60)), alert_z = param(p, "alert_z", 2.5))
  pairflow_state$spreads <- numeric(0)
  pairflow_log(sprintf("z-score of log(%s) - %g * log(%s) over %d bars", cfg$y, cfg$beta, cfg$x,
                       cfg$window))
}

recover <- function(ctx) {
  pairflow_log(sprintf("resuming with %d of %d bars", length(pairflow_state$spreads), cfg$window))
}

process <- function(msg) {
  if (msg$symbol == cfg$y) {
    pairflow_state$y_ts <- msg$ts
    pairflow_state$y_close <- msg$close
  } else if (msg$symbol == cfg$x) {
    pairflow_state$x_ts <- msg$ts
    pairflow_state$x_close <- msg$close
  } else {
    return(NULL)  # another symbol's bar
  }
  s <- pairflow_state  # the same environment, not a copy: s$spreads <- ... updates the state
  # Wait for the other leg's bar of the same time.
  if (is.null(s$y_ts) || is.null(s$x_ts) || s$y_ts != s$x_ts) return(NULL)
  if (!(s$y_close > 0 && s$x_close > 0)) {
    pairflow_metric("bad_prices")
    return(NULL)
  }

  spread <- log(s$y_close) - cfg$beta * log(s$x_close)
  s$spreads <- tail(c(s$spreads, spread), cfg$window)
  if (length(s$spreads) < cfg$window) return(NULL)  # warming up

  m <- mean(s$spreads)
  sd <- sd(s$spreads)
  z <- if (sd > 0) (spread - m) / sd else NA  # NA is published as null
  if (!is.na(z) && abs(z) >= cfg$alert_z) {
    pairflow_emit("alerts", list(ts = msg$ts, y = cfg$y, x = cfg$x, z = z))
    pairflow_metric("alerts")
  }
  list(ts = msg$ts, y = cfg$y, x = cfg$x, spread = spread, mean = m, sd = sd, z = z)
}
