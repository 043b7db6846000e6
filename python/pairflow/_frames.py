"""Helpers between pandas objects and pairflow._core (internal)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ._core import Error


def check_index(obj, what: str) -> None:
    """A Series or DataFrame must be in time order: its index increasing."""
    index = obj.index if isinstance(obj, (pd.Series, pd.DataFrame)) else None
    if index is not None and not index.is_monotonic_increasing:
        bad = 1
        for k in range(1, len(index)):
            if not index[k] >= index[k - 1]:
                bad = k
                break
        raise Error(
            f"{what}: the index is not increasing (at position {bad}: {index[bad]!r} after "
            f"{index[bad - 1]!r}); sort it first (.sort_index())"
        )


def series(obj, what: str):
    """A 1-D input as the engine reads it (numpy arrays and Series pass through unchanged)."""
    if isinstance(obj, pd.DataFrame):
        if obj.shape[1] != 1:
            raise Error(f"{what}: expected one series, got a DataFrame of {obj.shape[1]} columns")
        obj = obj.iloc[:, 0]
    check_index(obj, what)
    if isinstance(obj, pd.Series):
        return obj.to_numpy(copy=False) if obj.dtype.kind in "fiu" else obj.to_numpy()
    return obj


def table(obj, what: str, names=None):
    """A 2-D input (DataFrame: columns = series) and its column names."""
    if isinstance(obj, pd.DataFrame):
        check_index(obj, what)
        for name, dtype in obj.dtypes.items():
            if dtype.kind not in "fiu":
                raise TypeError(f"{what}: column {name!r} has dtype {dtype}; expected numbers")
        values = obj.to_numpy(copy=False) if len(set(obj.dtypes)) == 1 else obj.to_numpy(
            dtype="float64")
        cols = [str(c) for c in obj.columns]
        return values, list(names) if names is not None else cols
    array = np.asarray(obj)
    if array.ndim != 2:
        raise Error(f"{what}: expected a table (2-D), got {array.ndim} dimensions")
    cols = list(names) if names is not None else [f"S{k}" for k in range(array.shape[1])]
    if len(cols) != array.shape[1]:
        raise Error(f"{what}: {len(cols)} names for {array.shape[1]} columns")
    return array, cols


def timestamps(ns) -> pd.DatetimeIndex:
    """Nanoseconds since the epoch as UTC timestamps."""
    return pd.to_datetime(np.asarray(ns, dtype="int64"), utc=True)


def nanoseconds(values, what: str) -> np.ndarray:
    """Event times as int64 nanoseconds since the epoch (naive datetimes are UTC)."""
    if isinstance(values, (pd.Series, pd.Index)) and values.dtype.kind == "M":
        dt = pd.DatetimeIndex(values)
        if dt.tz is not None:
            dt = dt.tz_convert("UTC").tz_localize(None)
        return dt.asi8
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        return array.astype("int64", copy=False)
    if array.dtype.kind == "M":
        return array.astype("datetime64[ns]").view("int64")
    try:
        return pd.DatetimeIndex(pd.to_datetime(array, utc=True)).tz_localize(None).asi8
    except (ValueError, TypeError) as e:
        raise Error(f"{what}: cannot read the times ({e})") from None


TICK_COLUMNS = ("price", "size", "bid", "ask", "bid_size", "ask_size")


def tick_columns(ticks: pd.DataFrame, what: str = "ticks") -> dict:
    """A ticks DataFrame (ts, symbol, price[, size, bid, ask, bid_size, ask_size]) as columns.

    `ts` may be a column or the index (datetime64, or int64 nanoseconds since the epoch)."""
    if not isinstance(ticks, pd.DataFrame):
        raise TypeError(f"{what}: expected a DataFrame or a path, got {type(ticks).__name__}")
    frame = ticks
    if "ts" not in frame.columns:
        if frame.index.name == "ts" or isinstance(frame.index, pd.DatetimeIndex):
            frame = frame.reset_index().rename(columns={frame.index.name or "index": "ts"})
    for required in ("ts", "symbol", "price"):
        if required not in frame.columns:
            raise Error(
                f"{what}: missing column '{required}' (has: {', '.join(map(str, frame.columns))}"
                "); expected ts, symbol, price[, size, bid, ask, bid_size, ask_size]"
            )
    codes, uniques = pd.factorize(frame["symbol"], sort=False)
    if (codes < 0).any():
        row = int(np.argmax(codes < 0))
        raise Error(f"{what} row {row}: no symbol")
    columns = {
        "ts": nanoseconds(frame["ts"], f"{what}: ts"),
        "symbol": codes.astype("int64", copy=False),
        "names": [str(u) for u in uniques],
    }
    for name in TICK_COLUMNS:
        if name in frame.columns:
            col = frame[name]
            if col.dtype.kind not in "fiu":
                raise TypeError(f"{what}: column '{name}' has dtype {col.dtype}; expected numbers")
            columns[name] = col.to_numpy(copy=False)
    return columns


def is_path(obj) -> bool:
    return isinstance(obj, (str, os.PathLike))


def labels(codes, names) -> np.ndarray:
    """Symbol ids as their names (an object array)."""
    codes = np.asarray(codes)
    if not len(codes):
        return np.array([], dtype=object)
    return np.array(names, dtype=object)[codes]
