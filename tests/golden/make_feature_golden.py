#!/usr/bin/python3
"""Writes features_golden.json: reference bars and indicators for pairflow::features tests.

Run with Debian's /usr/bin/python3 (needs numpy, pandas). Seeded, so the output is reproducible.
Inputs are stored in the JSON (shortest round-trip decimals), so the C++ side reads bit-identical
values.

Bars: a pandas resample (time bars) or groupby (tick/volume/dollar bars) of the ticks that the
documented acceptance rules let in (irregular arrivals, empty intervals, out-of-order ticks inside
and beyond the allowed lateness). The acceptance rules are simulated here in plain Python; OHLCV is
pandas' aggregation of the accepted ticks in event-time order.

Indicators: R's TTR is not installed here, so its definitions are written with pandas/numpy
following TTR's documented algorithms: EMA(n) with ratio 2/(n+1) seeded with the SMA of the first
n non-NA values (TTR skips leading NAs); RSI and ATR with Wilder smoothing (ratio 1/n) seeded the
same way, ATR's first true range NA (closeLag = NA). SMA, rolling mean/std (ddof=1) and rolling
correlation are pandas' rolling(); the rolling Hurst exponent is the variance method of
pairflow::stats::hurst (docs/statistics.md) evaluated on each window with numpy.
"""
import json
import math
import os

import numpy as np
import pandas as pd

rng = np.random.default_rng(20240917)
NS = 1_000_000_000


def r(x):
    """Shortest round-trip decimal of a float (JSON number), None for NaN."""
    x = float(x)
    return None if math.isnan(x) else float(repr(x))


# ---------------------------------------------------------------- ticks
def make_ticks(n, symbols, t0_s=1_700_000_000, mean_gap_ms=180.0):
    """Irregular arrivals, two pauses (empty intervals), out-of-order ticks near and far."""
    ticks = []
    t = t0_s * NS
    price = {s: 100.0 + 10 * i for i, s in enumerate(symbols)}
    for i in range(n):
        gap = int(rng.exponential(mean_gap_ms) * 1e6) + 1
        if i in (n // 3, 2 * n // 3):
            gap += int(7.3 * NS)  # several empty 1 s intervals
        t += gap
        s = symbols[int(rng.integers(len(symbols)))]
        price[s] = round(price[s] * math.exp(0.001 * rng.standard_normal()), 2)
        size = float(int(rng.integers(1, 300)))
        ticks.append([t, s, price[s], size])
    # Out-of-order: move some ticks later in arrival (delays from 0.1 s to 4 s of event time).
    out = list(ticks)
    for _ in range(n // 12):
        i = int(rng.integers(1, len(out) - 40))
        delay = int(rng.integers(1, 40))
        out.insert(i + delay, out.pop(i))
    # Exact duplicate times across symbols and within one symbol.
    k = int(rng.integers(10, n - 10))
    out[k + 1][0] = out[k][0]
    return out


def align_down(ts, interval):
    return (ts // interval) * interval


def accept_time_bars(ticks, interval, lateness):
    accepted, late = [], 0
    started, max_ts, next_close = False, 0, 0
    for seq, (ts, s, p, q) in enumerate(ticks):
        start = align_down(ts, interval)
        if not started:
            started, max_ts = True, ts
            next_close = align_down(ts - lateness, interval)
        elif start < next_close:
            late += 1
            continue
        elif ts > max_ts:
            max_ts = ts
            next_close = max(next_close, align_down(max_ts - lateness, interval))
        accepted.append((ts, s, p, q, seq))
    return accepted, late


def time_bars_case(ticks, interval, lateness, symbol_ids):
    accepted, late = accept_time_bars(ticks, interval, lateness)
    df = pd.DataFrame(accepted, columns=["ts", "symbol", "price", "size", "seq"])
    df = df.sort_values(["ts", "seq"], kind="mergesort")
    df["notional"] = df["price"] * df["size"]
    df["time"] = pd.to_datetime(df["ts"], unit="ns", utc=True)
    rows = []
    for sym, g in df.groupby("symbol", sort=False):
        g = g.set_index("time")
        res = g.resample(pd.Timedelta(interval, unit="ns"), label="left", closed="left",
                         origin="epoch")
        agg = pd.DataFrame({
            "open": res["price"].first(), "high": res["price"].max(),
            "low": res["price"].min(), "close": res["price"].last(),
            "volume": res["size"].sum(), "notional": res["notional"].sum(),
            "count": res["price"].count(),
        })
        agg = agg[agg["count"] > 0]  # gaps: no bar for an empty interval
        for start, b in agg.iterrows():
            start_ns = int(start.value)
            vwap = b["notional"] / b["volume"] if b["volume"] > 0 else b["close"]
            rows.append([start_ns, symbol_ids[sym], r(b["open"]), r(b["high"]), r(b["low"]),
                         r(b["close"]), r(b["volume"]), r(vwap), int(b["count"])])
    rows.sort(key=lambda x: (x[0], x[1]))  # emission order: by interval, then symbol id
    return {"interval_ns": interval, "lateness_ns": lateness,
            "bars": rows, "late": late}


def threshold_bars_case(ticks, kind, threshold, lateness, symbol_ids):
    state = {}
    bar_of = {}       # seq -> bar number
    order = []        # bar numbers in emission order
    late_lateness = late_closed = 0
    next_bar = 0
    open_bar = {}
    for seq, (ts, s, p, q) in enumerate(ticks):
        st = state.setdefault(s, {"max": None, "closed": None, "count": 0, "vol": 0.0,
                                  "dollars": 0.0, "close_ts": None})
        if st["max"] is not None and ts < st["max"] - lateness:
            late_lateness += 1
            continue
        if st["closed"] is not None and ts < st["closed"]:
            late_closed += 1
            continue
        st["max"] = ts if st["max"] is None else max(st["max"], ts)
        if st["count"] == 0:
            open_bar[s] = next_bar
            next_bar += 1
            st["close_ts"] = ts
        st["close_ts"] = max(st["close_ts"], ts)
        st["count"] += 1
        st["vol"] += q
        st["dollars"] += q * p
        bar_of[seq] = open_bar[s]
        measure = {"tick": st["count"], "volume": st["vol"], "dollar": st["dollars"]}[kind]
        if measure >= threshold:
            order.append(open_bar[s])
            st["closed"] = st["close_ts"]
            st["count"], st["vol"], st["dollars"] = 0, 0.0, 0.0
    for s in sorted(state, key=lambda name: symbol_ids[name]):  # flush: partial bars
        if state[s]["count"] > 0:
            order.append(open_bar[s])
    acc = [(ts, s, p, q, seq, bar_of[seq]) for seq, (ts, s, p, q) in enumerate(ticks)
           if seq in bar_of]
    df = pd.DataFrame(acc, columns=["ts", "symbol", "price", "size", "seq", "bar"])
    df = df.sort_values(["ts", "seq"], kind="mergesort")
    df["notional"] = df["price"] * df["size"]
    g = df.groupby("bar")
    agg = pd.DataFrame({
        "ts": g["ts"].min(), "symbol": g["symbol"].first(),
        "open": g["price"].first(), "high": g["price"].max(), "low": g["price"].min(),
        "close": g["price"].last(), "volume": g["size"].sum(), "notional": g["notional"].sum(),
        "count": g["price"].count(),
    })
    rows = []
    for b in order:
        x = agg.loc[b]
        vwap = x["notional"] / x["volume"] if x["volume"] > 0 else x["close"]
        rows.append([int(x["ts"]), symbol_ids[x["symbol"]], r(x["open"]), r(x["high"]),
                     r(x["low"]), r(x["close"]), r(x["volume"]), r(vwap), int(x["count"])])
    return {"kind": kind, "threshold": threshold, "lateness_ns": lateness, "bars": rows,
            "late_lateness": late_lateness, "late_closed": late_closed}


# ---------------------------------------------------------------- indicators (TTR definitions)
def ttr_ema(x, n, wilder=False):
    """TTR::EMA: ratio 2/(n+1) (1/n if wilder), first value = mean of the first n non-NA values."""
    x = pd.Series(np.asarray(x, dtype=float))
    out = pd.Series(np.nan, index=x.index)
    valid = np.flatnonzero(~x.isna().to_numpy())
    if len(valid) < n:
        return out
    f = valid[0]
    seed_at = f + n - 1
    seed = x.iloc[f:f + n].mean()
    ratio = 1.0 / n if wilder else 2.0 / (n + 1)
    rest = pd.concat([pd.Series([seed]), x.iloc[seed_at + 1:]], ignore_index=True)
    ew = rest.ewm(alpha=ratio, adjust=False).mean().to_numpy()
    out.iloc[seed_at:] = ew
    return out


def ttr_rsi(close, n=14):
    m = close.diff()
    up = m.clip(lower=0)
    dn = (-m).clip(lower=0)
    u = ttr_ema(up, n, wilder=True)
    d = ttr_ema(dn, n, wilder=True)
    return 100.0 * u / (u + d)


def ttr_atr(high, low, close, n=14):
    prev = close.shift(1)
    tr = np.maximum(high, prev) - np.minimum(low, prev)  # NaN on the first bar, as TTR
    tr[prev.isna()] = np.nan
    return ttr_ema(tr, n, wilder=True)


def hurst_variance(levels):
    n = len(levels)
    lo, hi = 2, max(3, min(100, n // 10))
    lx, ly = [], []
    for tau in range(lo, hi + 1):
        d = levels[tau:] - levels[:-tau]
        ss = np.sum((d - d.mean()) ** 2)
        if ss > 0:
            lx.append(math.log(tau))
            ly.append(0.5 * math.log(ss / len(d)))
    if len(lx) < 2:
        return np.nan
    return np.polyfit(np.array(lx), np.array(ly), 1)[0]


def rolling_hurst(close, w):
    lv = np.log(close.to_numpy())
    out = np.full(len(lv), np.nan)
    for t in range(w - 1, len(lv)):
        out[t] = hurst_variance(lv[t - w + 1:t + 1])
    return pd.Series(out, index=close.index)


def make_bar_series(n, start_price, drift_sd, seed_shift):
    c = start_price * np.exp(np.cumsum(drift_sd * rng.standard_normal(n)))
    c = np.round(c, 4)
    o = np.round(np.concatenate([[start_price], c[:-1]]) * np.exp(0.001 * rng.standard_normal(n)), 4)
    h = np.round(np.maximum(o, c) + np.abs(0.05 * rng.standard_normal(n)), 4)
    lo = np.round(np.minimum(o, c) - np.abs(0.05 * rng.standard_normal(n)), 4)
    return o, h, lo, c


def indicators_case():
    n = 420
    t0 = 1_700_000_000 * NS
    ts = t0 + np.arange(n, dtype=np.int64) * 60 * NS
    ox, hx, lx, cx = make_bar_series(n, 100.0, 0.004, 0)
    # Y co-moves with X (correlated returns) and misses ~5% of the bars.
    ry = 0.7 * np.diff(np.log(cx), prepend=np.log(100.0)) + 0.003 * rng.standard_normal(n)
    cy = np.round(50.0 * np.exp(np.cumsum(ry)), 4)
    oy = np.round(np.concatenate([[50.0], cy[:-1]]), 4)
    hy = np.round(np.maximum(oy, cy) + np.abs(0.03 * rng.standard_normal(n)), 4)
    ly = np.round(np.minimum(oy, cy) - np.abs(0.03 * rng.standard_normal(n)), 4)
    keep_y = rng.random(n) > 0.05
    keep_y[:3] = True
    specs = "logret,sma:20,ema:10,mean:20,std:20,zscore:20,ewmvol:20,rsi:14,atr:14,hurst:100,corr:30:X"
    columns = ["logret", "sma_20", "ema_10", "mean_20", "std_20", "zscore_20", "ewmvol_20",
               "rsi_14", "atr_14", "hurst_100", "corr_30_X"]
    frames = {}
    for sym, (o, h, lo_, c, keep) in {"X": (ox, hx, lx, cx, np.ones(n, bool)),
                                      "Y": (oy, hy, ly, cy, keep_y)}.items():
        df = pd.DataFrame({"ts": ts[keep], "open": o[keep], "high": h[keep], "low": lo_[keep],
                           "close": c[keep]}).set_index("ts")
        cl = df["close"]
        df["logret"] = np.log(cl).diff()
        df["sma_20"] = cl.rolling(20).mean()
        df["ema_10"] = ttr_ema(cl.to_numpy(), 10).to_numpy()
        df["mean_20"] = cl.rolling(20).mean()
        df["std_20"] = cl.rolling(20).std()
        df["zscore_20"] = (cl - df["mean_20"]) / df["std_20"]
        df["ewmvol_20"] = np.sqrt(ttr_ema((df["logret"] ** 2).to_numpy(), 20).to_numpy())
        df["rsi_14"] = ttr_rsi(cl.reset_index(drop=True), 14).to_numpy()
        df["atr_14"] = ttr_atr(df["high"].reset_index(drop=True), df["low"].reset_index(drop=True),
                               cl.reset_index(drop=True), 14).to_numpy()
        df["hurst_100"] = rolling_hurst(cl, 100).to_numpy()
        frames[sym] = df
    # corr:30:X — each symbol's log returns against X's, on the bars where both have a return.
    rx = frames["X"]["logret"]
    for sym, df in frames.items():
        both = pd.concat([df["logret"], rx], axis=1, join="inner", keys=["a", "b"]).dropna()
        corr = both["a"].rolling(30).corr(both["b"])
        df["corr_30_X"] = corr.reindex(df.index)
    symbol_ids = {"X": 0, "Y": 1}
    rows, values = [], []
    for t in ts:
        for sym in ("X", "Y"):
            df = frames[sym]
            if t not in df.index:
                continue
            b = df.loc[t]
            rows.append([int(t), symbol_ids[sym], r(b["open"]), r(b["high"]), r(b["low"]),
                         r(b["close"])])
            values.append([r(b[c]) for c in columns])
    return {"specs": specs, "columns": columns, "bars": rows, "values": values}


def main():
    symbols = ["AAA", "BBB", "CCC"]
    ticks = make_ticks(1500, symbols)
    first_seen = {}
    for _, s, _, _ in ticks:
        first_seen.setdefault(s, len(first_seen))
    out = {
        "ticks": [[t, first_seen[s], r(p), r(q)] for t, s, p, q in ticks],
        "symbols": sorted(first_seen, key=first_seen.get),
        "time_bars": [
            time_bars_case(ticks, 1 * NS, 0, first_seen),
            time_bars_case(ticks, 1 * NS, 1500 * NS // 1000, first_seen),
            time_bars_case(ticks, 5 * NS, 3 * NS, first_seen),
        ],
        "threshold_bars": [
            threshold_bars_case(ticks, "tick", 5, 0, first_seen),
            threshold_bars_case(ticks, "tick", 7, 1 * NS, first_seen),
            threshold_bars_case(ticks, "volume", 800.0, 1 * NS, first_seen),
            threshold_bars_case(ticks, "dollar", 90000.0, 2 * NS, first_seen),
        ],
        "indicators": indicators_case(),
        "versions": {"pandas": pd.__version__, "numpy": np.__version__},
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "features_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    tb = out["time_bars"]
    print(f"wrote {path}: {len(ticks)} ticks; time bars {[len(c['bars']) for c in tb]} "
          f"late {[c['late'] for c in tb]}; threshold bars "
          f"{[(len(c['bars']), c['late_lateness'], c['late_closed']) for c in out['threshold_bars']]}")


if __name__ == "__main__":
    main()
