"""Bars and streaming indicators of ticks: the code of `pairflow features` and the bars and
features jobs.

    >>> bars = pairflow.features.bars(ticks, bars="1m", indicators="logret,ema:10,zscore:30")
"""

from __future__ import annotations

import os

import pandas as pd

from . import _core
from ._frames import is_path, labels, tick_columns, timestamps

__all__ = ["bars"]


def bars(ticks, bars="1m", indicators=None, lateness="0", max_rejects=0) -> pd.DataFrame:
    """Bars and indicators of a ticks DataFrame (ts, symbol, price[, size, bid, ask]) or a ticks
    CSV path, as `pairflow features --bars B --indicators I` computes them.

    bars: time bars of a duration ("1s", "1m", ...), or "tick:N", "volume:X", "dollar:X".
    indicators: comma-separated (or a list): logret, sma:n, ema:n, mean:n, std:n, zscore:n,
    ewmvol:n, rsi[:14], atr[:14], hurst[:100], corr:n:SYMBOL (docs/features.md).
    lateness: allowed lateness of out-of-order ticks ("0", "500ms", "2s"); later ticks are
    counted in .attrs["late"], not errors. max_rejects: bad ticks tolerated before
    pairflow.Error (0 = none, -1 = any); they are counted in .attrs["rejected"].

    Returns one row per closed bar: ts (bar start, UTC), symbol, open, high, low, close, volume,
    vwap, count, then one column per indicator (NaN while it warms up).

    >>> ticks = pairflow.gen.ticks(seed=7, symbols=10, sessions=1).ticks
    >>> pairflow.features.bars(ticks, "5m", "logret,zscore:20").tail()
    """
    if isinstance(indicators, (list, tuple)):
        indicators = ",".join(indicators)
    if is_path(ticks):
        r = _core.feature_bars(os.fspath(ticks), None, bars, indicators or "", str(lateness),
                               int(max_rejects))
    else:
        r = _core.feature_bars(None, tick_columns(ticks), bars, indicators or "", str(lateness),
                               int(max_rejects))
    data = {
        "ts": timestamps(r["ts"]),
        "symbol": labels(r["symbol"], r["names"]),
        "open": r["open"],
        "high": r["high"],
        "low": r["low"],
        "close": r["close"],
        "volume": r["volume"],
        "vwap": r["vwap"],
        "count": r["count"],
    }
    for name, values in zip(r["indicator_names"], r["indicator_values"]):
        data[name] = values
    out = pd.DataFrame(data)
    out.attrs.update(ticks=r["ticks"], late=r["late"], rejected=r["rejected"],
                     first_reject=r["first_reject"])
    return out
