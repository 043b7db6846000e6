"""Statistics that equal statsmodels 0.13.5, from the C++ core that trades.

Same names, defaults and return shapes as statsmodels where it has the function, so switching is
an import:

    from statsmodels.tsa.stattools import adfuller, coint     # before
    from pairflow.stats import adfuller, coint                # after

    >>> stat, pvalue, crit = pairflow.stats.coint(y, x)
    >>> table = pairflow.stats.coint_all_pairs(prices)        # every pair of columns at once

Inputs are 1-D arrays or Series (tables: 2-D arrays or DataFrames, columns = series) of numbers;
float64 input is read in place, without a copy. A Series or DataFrame must be in time order.
NaN, infinities, too few observations or a constant series raise pairflow.Error.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from . import _core
from ._frames import series, table

__all__ = [
    "adfuller",
    "adf",
    "coint",
    "coint_all_pairs",
    "coint_johansen",
    "johansen",
    "JohansenTestResult",
    "hurst",
    "HurstResult",
    "half_life",
    "kalman_hedge",
]


def adfuller(x, maxlag=None, regression="c", autolag="AIC", store=False, regresults=False):
    """Augmented Dickey-Fuller unit-root test (statsmodels.tsa.stattools.adfuller).

    Returns (adf, pvalue, usedlag, nobs, critical_values, icbest); without autolag (None) the
    last item is left out, as statsmodels does. critical_values is {"1%", "5%", "10%"}.

    >>> stat, pvalue, usedlag, nobs, crit, icbest = pairflow.stats.adfuller(x)
    """
    if store or regresults:
        raise _core.Error("adfuller: store and regresults are not supported (statsmodels has them)")
    r = _core.adf(series(x, "adfuller: x"), maxlag, regression, autolag)
    crit = {"1%": r["crit"][0], "5%": r["crit"][1], "10%": r["crit"][2]}
    if autolag is None:
        return r["stat"], r["pvalue"], r["usedlag"], r["nobs"], crit
    return r["stat"], r["pvalue"], r["usedlag"], r["nobs"], crit, r["icbest"]


adf = adfuller


def coint(y0, y1, trend="c", method="aeg", maxlag=None, autolag="aic", return_results=None):
    """Engle-Granger cointegration test of y0 on y1 (statsmodels.tsa.stattools.coint).

    Returns (coint_t, pvalue, crit_value) with crit_value the 1%, 5%, 10% critical values.

    >>> t, p, crit = pairflow.stats.coint(np.log(a), np.log(b))
    """
    if method != "aeg":
        raise _core.Error(f"coint: method '{method}': only 'aeg' exists (as in statsmodels)")
    r = _core.coint(series(y0, "coint: y0"), series(y1, "coint: y1"), trend, maxlag, autolag)
    return r["stat"], r["pvalue"], np.array(r["crit"])


def coint_all_pairs(data, trend="c", maxlag=None, autolag="aic", both_directions=False,
                    threads=1, names=None) -> pd.DataFrame:
    """coint(y, x) for every pair of columns of `data`, in one call.

    Pairs are (column i, column j) with i < j, y = column i; with both_directions also y = column
    j. `threads` splits the pairs over threads (0 = one per core); the result does not depend on
    it. A pair whose test cannot be computed (collinear columns) has NaN statistics and its
    reason in `error`.

    Returns a DataFrame: y, x, stat, pvalue, crit_1, crit_5, crit_10, hedge_ratio, intercept
    (y = intercept + hedge_ratio x + u), usedlag, nobs, error.

    >>> ranked = pairflow.stats.coint_all_pairs(np.log(prices)).sort_values("pvalue")
    """
    values, cols = table(data, "coint_all_pairs: data", names)
    r = _core.coint_all_pairs(values, trend, maxlag, autolag, both_directions, threads)
    labels = np.array(cols, dtype=object)
    out = pd.DataFrame({
        "y": labels[r["y"]],
        "x": labels[r["x"]],
        "stat": r["stat"],
        "pvalue": r["pvalue"],
        "crit_1": r["crit_1"],
        "crit_5": r["crit_5"],
        "crit_10": r["crit_10"],
        "hedge_ratio": r["hedge_ratio"],
        "intercept": r["intercept"],
        "usedlag": r["usedlag"],
        "nobs": r["nobs"],
        "error": r["error"],
    })
    return out


class JohansenTestResult:
    """What statsmodels' coint_johansen returns: eig (descending), evec (columns), lr1 (trace
    statistics), lr2 (max-eigenvalue statistics), cvt / cvm (90%, 95%, 99% critical values),
    their aliases trace_stat, max_eig_stat, trace_stat_crit_vals, max_eig_stat_crit_vals, meth,
    and nobs (rows of the residual regressions)."""

    def __init__(self, r: dict):
        self.eig = r["eig"]
        self.evec = r["evec"]
        self.lr1 = r["lr1"]
        self.lr2 = r["lr2"]
        self.cvt = r["cvt"]
        self.cvm = r["cvm"]
        self.nobs = r["nobs"]
        self.meth = "johansen"

    @property
    def trace_stat(self):
        return self.lr1

    @property
    def max_eig_stat(self):
        return self.lr2

    @property
    def trace_stat_crit_vals(self):
        return self.cvt

    @property
    def max_eig_stat_crit_vals(self):
        return self.cvm

    def __repr__(self):
        return f"JohansenTestResult(eig={self.eig!r}, lr1={self.lr1!r}, lr2={self.lr2!r})"


def coint_johansen(endog, det_order, k_ar_diff) -> JohansenTestResult:
    """Johansen cointegration rank test (statsmodels.tsa.vector_ar.vecm.coint_johansen).

    det_order: -1 none, 0 constant, 1 linear trend; k_ar_diff: lagged differences.

    >>> r = pairflow.stats.coint_johansen(np.log(prices[["A", "B", "C"]]), 0, 1)
    >>> rank = int((r.lr1 > r.cvt[:, 1]).sum())
    """
    values, _ = table(endog, "coint_johansen: endog")
    return JohansenTestResult(_core.johansen(values, int(det_order), int(k_ar_diff)))


johansen = coint_johansen


class HurstResult(NamedTuple):
    hurst: float
    intercept: float
    r2: float
    num_scales: int


def hurst(x, method="variance", min_scale=0, max_scale=0, num_scales=20) -> HurstResult:
    """Hurst exponent of a level series (price or spread): ~0.5 random walk, < 0.5 mean reverting.

    method: "variance" (slope of log std of lagged differences), "rs" (rescaled range with the
    Anis-Lloyd-Peters correction) or "dfa" (detrended fluctuation analysis). Scales 0 = the
    method's default range (docs/statistics.md).

    >>> pairflow.stats.hurst(spread).hurst
    """
    return HurstResult(*_core.hurst(series(x, "hurst: x"), method, int(min_scale),
                                    int(max_scale), int(num_scales)))


def half_life(spread) -> float:
    """Half-life, in observations, of the spread's mean reversion: regress the change on the
    lagged level and return -ln 2 / ln(1 + beta). Raises pairflow.Error when the spread does not
    revert.

    >>> pairflow.stats.half_life(y - 1.3 * x)
    """
    return _core.half_life(series(spread, "half_life: spread"))


def kalman_hedge(x, y, delta=1e-4, ve=1e-3, initial_state=(0.0, 0.0),
                 initial_cov=(0.0, 0.0, 0.0, 0.0)) -> pd.DataFrame:
    """Kalman-filter dynamic hedge ratio of y on x (Chan, Algorithmic Trading, ex. 3.3).

    Returns a DataFrame with one row per observation: slope, intercept (the filtered state),
    e (forecast error), q (its variance), p00, p01, p10, p11 (the state covariance). The index
    is y's when y is a Series.

    >>> hedge = pairflow.stats.kalman_hedge(np.log(b), np.log(a))["slope"]
    """
    r = _core.kalman_hedge(series(x, "kalman_hedge: x"), series(y, "kalman_hedge: y"),
                           float(delta), float(ve), tuple(initial_state), tuple(initial_cov))
    cov = r["cov"]
    out = pd.DataFrame({
        "slope": r["slope"],
        "intercept": r["intercept"],
        "e": r["e"],
        "q": r["q"],
        "p00": cov[:, 0],
        "p01": cov[:, 1],
        "p10": cov[:, 2],
        "p11": cov[:, 3],
    })
    if isinstance(y, pd.Series):
        out.index = y.index
    return out
