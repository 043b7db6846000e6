"""The all-pairs screen (`pairflow screen`) and the streaming Screener, on pandas tables."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import _core
from ._frames import series, table

_COLUMNS = ["y", "x", "corr", "stat", "pvalue", "hedge_ratio", "intercept", "half_life", "hurst",
            "crossings", "usedlag", "score", "adj_pvalue", "pvalue_reverse", "pair_pvalue",
            "df_stat", "leg_stat", "stability_pvalue", "stage", "selected"]


def _frame(candidates: dict, names: list[str]) -> pd.DataFrame:
    labels = np.array(names, dtype=object)
    data = dict(candidates)
    data["y"] = labels[data["y"]]
    data["x"] = labels[data["x"]]
    out = pd.DataFrame({k: data[k] for k in _COLUMNS})
    out.index = pd.RangeIndex(1, len(out) + 1, name="rank")
    return out


def _logs(values: np.ndarray, cols: list[str]) -> np.ndarray:
    values = np.asarray(values, dtype="float64")
    bad = ~(values > 0) & ~np.isnan(values)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise _core.Error(
            f"screen: column '{cols[c]}': log needs positive values, got {values[r, c]} at row {r}")
    return _core.log(values)  # the C library's log, as the CLI and the engine take it


def screen(prices, *, log=False, window=None, top=0, correction="bh", max_pvalue=0.05,
           min_corr=None, per_symbol=0, neighbours=None, rank_all=False, triangles=True,
           pair_test="both", prescreen_pvalue=None, max_hurst=None, min_half_life=None,
           max_half_life=None, min_crossings=None, stability_splits=None, stability_pvalue=None,
           min_leg_margin=None, trend=None, maxlag=None, autolag="aic",
           names=None) -> pd.DataFrame:
    """The ranking and selection of `pairflow screen --prices FILE`, on a table of prices.

    `prices`: a DataFrame (rows = bars in time order, columns = symbols) or a 2-D array (with
    `names`). NaN is a missing value, forward-filled. `log=True` takes natural logs first (as
    --log). Every option is the CLI's (None = its default): the window (returns; default all
    rows), the family (neighbours, 0 = every pair), the multiple-testing correction (bh,
    bonferroni, none) at max_pvalue, the pair test (both, either), the pre-screen and spread
    filters, the pairs per symbol and the top K. `rank_all` lists every pair with the stage that
    stopped it.

    Returns the pairs best first (index = rank): y, x, corr, stat, pvalue, hedge_ratio,
    intercept, half_life, hurst, crossings, usedlag, score, adj_pvalue, pvalue_reverse,
    pair_pvalue, df_stat, leg_stat, stability_pvalue, stage, selected. `.attrs` holds the CLI's
    one-line "summary", the stage "counts" (with "pvalue_cutoff", the largest raw pair p-value
    the correction accepted), the "window" and the "untestable" columns.

    >>> pairs = pairflow.screen(prices, log=True)
    >>> pairs[["y", "x", "adj_pvalue", "half_life"]].head()
    """
    values, cols = table(prices, "screen: prices", names)
    if log:
        values = _logs(values, cols)
    options = dict(window=window or 0, top=top, correction=correction, max_pvalue=max_pvalue,
                   min_corr=min_corr, per_symbol=per_symbol, neighbours=neighbours,
                   rank_all=rank_all, triangles=triangles, pair_test=pair_test,
                   prescreen_pvalue=prescreen_pvalue, max_hurst=max_hurst,
                   min_half_life=min_half_life, max_half_life=max_half_life,
                   min_crossings=min_crossings, stability_splits=stability_splits,
                   stability_pvalue=stability_pvalue, min_leg_margin=min_leg_margin, trend=trend,
                   maxlag=maxlag, autolag=autolag)
    r = _core.screen(values, cols, options)
    if r["untestable"]:
        warnings.warn(f"screen: {len(r['untestable'])} of {len(cols)} columns cannot be tested "
                      f"and are left out: {', '.join(r['untestable'])}", stacklevel=2)
    out = _frame(r["candidates"], cols)
    out.attrs.update(summary=r["summary"], counts=r["counts"], window=r["window"],
                     untestable=list(r["untestable"]))
    return out


class Screener:
    """The streaming all-pairs screener (the one the engine trades with), bar by bar.

    >>> s = pairflow.Screener(prices.columns, window=390)
    >>> for _, row in np.log(prices).iterrows():
    ...     s.on_bar(row)
    >>> s.screen().head()

    Options are those of pairflow.screen (without top's and log's one-shot meaning: feed log
    prices yourself). Not thread-safe: one Screener per thread.
    """

    def __init__(self, symbols, **options):
        self._names = [str(s) for s in symbols]
        self._index = {n: k for k, n in enumerate(self._names)}
        if len(self._index) != len(self._names):
            raise _core.Error("Screener: symbols must be distinct")
        autolag = options.pop("autolag", "aic")
        known = {"window", "top", "correction", "max_pvalue", "min_corr", "per_symbol",
                 "neighbours", "rank_all", "triangles", "pair_test", "prescreen_pvalue",
                 "max_hurst", "min_half_life", "max_half_life", "min_crossings",
                 "stability_splits", "stability_pvalue", "min_leg_margin", "trend", "maxlag"}
        unknown = set(options) - known
        if unknown:
            raise TypeError(f"Screener: unknown option(s) {', '.join(sorted(unknown))}")
        options["autolag"] = autolag
        self._core = _core.Screener(len(self._names), options)

    @property
    def symbols(self) -> list[str]:
        return list(self._names)

    @property
    def bars(self) -> int:
        return self._core.bars

    @property
    def window(self) -> int:
        return self._core.window

    def on_bar(self, log_prices) -> None:
        """One bar: a log price per symbol (a Series or dict by symbol, or an array in the
        symbols' order); NaN or a missing symbol = no price this bar (forward-filled)."""
        if isinstance(log_prices, dict):
            log_prices = pd.Series(log_prices, dtype="float64")
        if isinstance(log_prices, pd.Series) and not isinstance(log_prices.index, pd.RangeIndex):
            unknown = [k for k in log_prices.index if str(k) not in self._index]
            if unknown:
                raise _core.Error(f"Screener.on_bar: unknown symbol(s) {unknown[:5]}")
            log_prices = log_prices.reindex(self._names).to_numpy(dtype="float64")
        self._core.on_bar(log_prices)

    def update(self, log_prices) -> None:
        """Many bars at once: a DataFrame (columns = the symbols) or a 2-D array."""
        if isinstance(log_prices, pd.DataFrame):
            missing = [n for n in self._names if n not in map(str, log_prices.columns)]
            if missing:
                raise _core.Error(f"Screener.update: missing symbol column(s) {missing[:5]}")
            log_prices = log_prices.rename(columns=str)[self._names]
        values, _ = table(log_prices, "Screener.update: bars", self._names)
        self._core.update(values)

    def screen(self) -> pd.DataFrame:
        """The ranked pairs now (same columns as pairflow.screen; .attrs["counts"])."""
        r = self._core.screen()
        out = _frame(r["candidates"], self._names)
        out.attrs.update(counts=r["counts"])
        return out

    def correlation(self, a: str, b: str) -> float:
        """Correlation of the two symbols' log returns over the window."""
        return self._core.correlation(self._id(a), self._id(b))

    def ready(self, symbol: str) -> bool:
        """Whether the symbol has a full window."""
        return self._core.ready(self._id(symbol))

    def _id(self, symbol: str) -> int:
        try:
            return self._index[str(symbol)]
        except KeyError:
            raise _core.Error(f"Screener: unknown symbol '{symbol}'") from None
