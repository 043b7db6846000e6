"""Z-score of a pair's log-price spread, updated per bar with exponentially weighted moments.

Input: bars (`bars.<interval>`: {ts, symbol, close, ...}) of both legs of one pair.
Output: {ts, pair, spread, mean, std, z} per bar once both legs have a price and the estimate
has warmed up; an alert on `alerts.zscore` when |z| crosses the threshold.

Parameters (pipeline file or `--param k=v`):
    a, b         the legs' symbols                  (required)
    hedge_ratio  spread = log(a) - hedge_ratio * log(b)   (default 1.0)
    halflife     of the moving mean/variance, in bars     (default 60)
    warmup       bars before z is published                (default 30)
    threshold    |z| that raises an alert                  (default 2.0)

    pairflow job run examples/jobs/spread_zscore.py --in bars.1m --out features.spread_z \
        --param a=KO --param b=PEP --param hedge_ratio=0.93

Everything the job must remember lives in pairflow.state (plain JSON-able values), so a restart
from a checkpoint continues the same estimate.
"""
import math

import pairflow

state = pairflow.state
cfg = {}


def setup(ctx):
    p = ctx.params
    if "a" not in p or "b" not in p:
        raise ValueError("parameters a and b (the pair's symbols) are required")
    cfg.update(
        a=str(p["a"]),
        b=str(p["b"]),
        beta=float(p.get("hedge_ratio", 1.0)),
        alpha=1.0 - 0.5 ** (1.0 / float(p.get("halflife", 60))),
        warmup=int(p.get("warmup", 30)),
        threshold=float(p.get("threshold", 2.0)),
        pair=f"{p['a']}/{p['b']}",
    )
    state.setdefault("last", {})  # symbol -> last log close
    state.setdefault("n", 0)
    state.setdefault("mean", 0.0)
    state.setdefault("var", 0.0)
    state.setdefault("alerting", False)


def recover(ctx):
    pairflow.log(f"{cfg['pair']}: resumed after {state['n']} bars, mean {state['mean']:.5f}")


def process(msg):
    symbol = msg.get("symbol")
    if symbol not in (cfg["a"], cfg["b"]):
        return None
    close = float(msg["close"])
    if not close > 0:
        raise ValueError(f"close must be positive, got {close}")
    state["last"][symbol] = math.log(close)
    if len(state["last"]) < 2:
        return None

    spread = state["last"][cfg["a"]] - cfg["beta"] * state["last"][cfg["b"]]
    # Exponentially weighted mean and variance (West's incremental form).
    alpha = cfg["alpha"]
    if state["n"] == 0:
        state["mean"], state["var"] = spread, 0.0
    else:
        diff = spread - state["mean"]
        incr = alpha * diff
        state["mean"] += incr
        state["var"] = (1.0 - alpha) * (state["var"] + diff * incr)
    state["n"] += 1
    pairflow.metric("bars")

    std = math.sqrt(state["var"])
    if state["n"] < cfg["warmup"] or std == 0.0:
        return None
    z = (spread - state["mean"]) / std

    alerting = abs(z) >= cfg["threshold"]
    if alerting and not state["alerting"]:
        pairflow.emit("alerts.zscore", {"ts": msg.get("ts"), "pair": cfg["pair"], "z": z},
                      key=cfg["pair"])
        pairflow.metric("alerts")
    state["alerting"] = alerting

    return {"ts": msg.get("ts"), "pair": cfg["pair"], "spread": spread, "mean": state["mean"],
            "std": std, "z": z}
