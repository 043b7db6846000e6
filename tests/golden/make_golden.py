#!/usr/bin/python3
"""Writes stats_golden.json: reference values from statsmodels 0.13.5 for pairflow::stats tests.

Run with /usr/bin/python3 (needs numpy, statsmodels). Seeded, so the output is reproducible
for a given numpy/statsmodels/LAPACK. Input series are stored in the JSON (as shortest
round-trip decimals) so the C++ side reads bit-identical inputs.
"""
import json
from fractions import Fraction
import os
import warnings

import numpy as np
import statsmodels
from statsmodels.regression.linear_model import OLS
from statsmodels.tsa.stattools import adfuller, coint
from statsmodels.tsa.tsatools import add_trend
from statsmodels.tsa.vector_ar.vecm import coint_johansen

rng = np.random.default_rng(20240611)


def rw(n, start=100.0, scale=1.0):
    return start + np.cumsum(scale * rng.standard_normal(n))


def ar1(n, phi, scale=1.0):
    e = scale * rng.standard_normal(n)
    out = np.empty(n)
    out[0] = e[0]
    for t in range(1, n):
        out[t] = phi * out[t - 1] + e[t]
    return out


def arima110(n, phi):
    return 50.0 + np.cumsum(ar1(n, phi))


series = {}
series["rw_40"] = rw(40)
series["rw_60"] = rw(60, start=20.0, scale=0.5)
series["rw_2000"] = rw(2000)
series["price_1e4"] = rw(500, start=1e4, scale=0.01)
series["ar_098"] = 10.0 + ar1(500, 0.98)
series["ar_05"] = ar1(300, 0.5)
series["trending"] = 0.1 * np.arange(300) + 5 * np.sin(np.arange(300) / 20.0) + ar1(300, 0.6)
series["quad_trend"] = 1e-3 * np.arange(250) ** 2 + rw(250, start=0.0)
series["arima110"] = arima110(800, 0.5)
# Differences follow an exact AR(2) recurrence up to 1e-4 noise: the lagged-difference columns
# are nearly collinear, which sends pairflow's ADF from the Gram fast path to its QR fallback.
series["sine_noise"] = 100 + np.cumsum(np.sin(0.3 * np.arange(400)) + 1e-4 * rng.standard_normal(400))

pairs = {}


def add_pair(name, n, beta, alpha, phi, noise=1.0, x=None):
    if x is None:
        x = rw(n)
    y = alpha + beta * x + ar1(n, phi, noise)
    series[name + "_y"] = y
    series[name + "_x"] = x
    pairs[name] = (name + "_y", name + "_x")


add_pair("coint_pos_500", 500, 1.5, 2.0, 0.7)
add_pair("coint_neg_2000", 2000, -0.8, 50.0, 0.8)
add_pair("coint_short_50", 50, 1.2, 0.0, 0.3)
add_pair("indep_300", 300, 0.0, 0.0, 1.0)  # y is itself a random walk: not cointegrated
add_pair("near_collinear_400", 400, 3.0, 1.0, 0.2, noise=0.1)
add_pair("price_1e4_500", 500, 0.5, 100.0, 0.9, noise=0.01, x=rw(500, start=1e4, scale=0.02))
add_pair("trending_300", 300, 1.1, 5.0, 0.5, x=0.2 * np.arange(300) + rw(300))

TRENDS = ["n", "c", "ct", "ctt"]
AUTOLAGS = ["AIC", "BIC", "t-stat", None]


def f(v):
    return float(v)


def exact_lstsq(cols, y):
    """Least squares in exact rational arithmetic (normal equations over Fractions).

    statsmodels' pinv loses digits on ill-conditioned designs such as [x, 1, t, t^2] with x near
    1e4; these exact coefficients and residuals tell which digits of its answer are real.
    """
    fc = [[Fraction(v) for v in c] for c in cols]
    fy = [Fraction(v) for v in y]
    k = len(fc)
    a = [[sum(p * q for p, q in zip(fc[i], fc[j])) for j in range(k)] +
         [sum(p * q for p, q in zip(fc[i], fy))] for i in range(k)]
    for i in range(k):  # Gauss-Jordan, exact
        piv = a[i][i]
        a[i] = [v / piv for v in a[i]]
        for r in range(k):
            if r != i and a[r][i] != 0:
                fac = a[r][i]
                a[r] = [v - fac * w for v, w in zip(a[r], a[i])]
    b = [a[i][k] for i in range(k)]
    resid = [fy[t] - sum(b[j] * fc[j][t] for j in range(k)) for t in range(len(fy))]
    return [float(v) for v in b], np.array([float(v) for v in resid])


def exact_adf_stat(x, lag, trend):
    """ADF t-statistic with the regression solved in exact rational arithmetic."""
    fx = [Fraction(v) for v in x]
    fd = [fx[i + 1] - fx[i] for i in range(len(fx) - 1)]
    m = len(fd)
    nobs = m - lag
    rows = range(lag, m)
    cols = [[fx[t] for t in rows]] + [[fd[t - j] for t in rows] for j in range(1, lag + 1)]
    for p in range({"n": 0, "c": 1, "ct": 2, "ctt": 3}[trend]):
        cols.append([Fraction(r + 1) ** p for r in range(nobs)])
    fy = [fd[t] for t in rows]
    k = len(cols)
    a = [[sum(p * q for p, q in zip(cols[i], cols[j])) for j in range(k)] +
         [sum(p * q for p, q in zip(cols[i], fy))] + [Fraction(int(i == j)) for j in range(k)]
         for i in range(k)]
    for i in range(k):  # Gauss-Jordan on [X'X | X'y | I]
        piv = a[i][i]
        a[i] = [v / piv for v in a[i]]
        for r in range(k):
            if r != i and a[r][i] != 0:
                fac = a[r][i]
                a[r] = [v - fac * w for v, w in zip(a[r], a[i])]
    b = [a[i][k] for i in range(k)]
    ssr = sum((fy[t] - sum(b[j] * cols[j][t] for j in range(k))) ** 2 for t in range(nobs))
    return float(b[0]) / np.sqrt(float(ssr / (nobs - k) * a[0][k + 1]))


# Series whose ADF designs are ill-conditioned enough that statsmodels' own answer drifts
# beyond 1e-8: their cases also carry the exact statistic for the chosen lag.
EXACT_ADF_SERIES = {"sine_noise"}

adf_cases = []
adf_series = ["rw_40", "rw_60", "rw_2000", "price_1e4", "ar_098", "ar_05", "trending",
              "quad_trend", "arima110", "coint_pos_500_y", "sine_noise"]
for name in adf_series:
    x = series[name]
    for trend in TRENDS:
        for autolag in AUTOLAGS:
            for maxlag in [None, 0, 1, 3, 7]:
                if maxlag is not None and (autolag not in ("AIC", None) or name == "rw_2000"):
                    continue
                r = adfuller(x, maxlag=maxlag, regression=trend, autolag=autolag)
                adf_cases.append({
                    "series": name, "trend": trend, "autolag": autolag or "none",
                    "maxlag": maxlag, "stat": f(r[0]), "pvalue": f(r[1]), "usedlag": int(r[2]),
                    "nobs": int(r[3]), "crit": [f(r[4][k]) for k in ("1%", "5%", "10%")],
                    "icbest": f(r[5]) if autolag else 0.0,
                })
                if name in EXACT_ADF_SERIES:
                    adf_cases[-1]["stat_exact"] = f(exact_adf_stat(x, int(r[2]), trend))

coint_cases = []
exact_cache = {}
for name, (yn, xn) in pairs.items():
    y, x = series[yn], series[xn]
    for trend in TRENDS:
        for autolag in AUTOLAGS:
            for maxlag in [None, 2]:
                if maxlag is not None and autolag not in ("AIC", None):
                    continue
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    stat, pvalue, crit = coint(y, x, trend=trend, maxlag=maxlag, autolag=autolag)
                if any("colinear" in str(w.message) for w in caught):
                    # statsmodels returns -inf here; pairflow reports an error instead.
                    coint_cases.append({"y": yn, "x": xn, "trend": trend,
                                        "autolag": autolag or "none", "maxlag": maxlag,
                                        "collinear": True})
                    continue
                # The parts statsmodels computes but does not return.
                xx = x[:, None] if trend == "n" else add_trend(x[:, None], trend=trend,
                                                                prepend=False)
                res = OLS(y, xx).fit()
                a = adfuller(res.resid, maxlag=maxlag, autolag=autolag, regression="n")
                assert a[0] == stat
                key = (yn, trend)
                if key not in exact_cache:
                    exact_cache[key] = exact_lstsq([xx[:, j] for j in range(xx.shape[1])], y)
                b_exact, resid_exact = exact_cache[key]
                a_exact = adfuller(resid_exact, maxlag=maxlag, autolag=autolag, regression="n")
                coint_cases.append({
                    "y": yn, "x": xn, "trend": trend, "autolag": autolag or "none",
                    "maxlag": maxlag, "stat": f(stat), "pvalue": f(pvalue),
                    "crit": [None if np.isnan(c) else f(c) for c in crit],
                    "usedlag": int(a[2]), "nobs": int(a[3]),
                    "hedge_ratio": f(res.params[0]),
                    "intercept": f(res.params[1]) if trend != "n" else 0.0,
                    # Same quantities with an exact first-stage regression.
                    "stat_exact": f(a_exact[0]), "usedlag_exact": int(a_exact[2]),
                    "hedge_ratio_exact": b_exact[0],
                    "intercept_exact": b_exact[1] if trend != "n" else 0.0,
                })

johansen_cases = []
systems = {
    "pair_500": ["coint_pos_500_y", "coint_pos_500_x"],
    "triple_300": ["indep_300_x", "trending_300_y", "trending_300_x"],
    "quad_500": ["coint_pos_500_y", "coint_pos_500_x", "price_1e4_500_y", "ar_098"],
    "pair_2000": ["coint_neg_2000_y", "coint_neg_2000_x"],
}
for name, cols in systems.items():
    endog = np.column_stack([series[c] for c in cols])
    for det_order in (-1, 0, 1):
        for k_ar_diff in (1, 2):
            r = coint_johansen(endog, det_order, k_ar_diff)
            johansen_cases.append({
                "system": name, "series": cols, "det_order": det_order, "k_ar_diff": k_ar_diff,
                "eig": [f(v) for v in r.eig], "lr1": [f(v) for v in r.lr1],
                "lr2": [f(v) for v in r.lr2], "cvt": [[f(v) for v in row] for row in r.cvt],
                "cvm": [[f(v) for v in row] for row in r.cvm],
                "evec": [[f(v) for v in row] for row in r.evec],  # row-major neqs x neqs
            })


def kalman_reference(x, y, delta, ve):
    """Chan (2013), Algorithmic Trading, example 3.3, written out in numpy."""
    n = len(x)
    vw = delta / (1 - delta) * np.eye(2)
    beta = np.zeros(2)
    p = np.zeros((2, 2))
    out = []
    for t in range(n):
        r = p + vw if t > 0 else p.copy()
        h = np.array([x[t], 1.0])
        yhat = h @ beta
        q = h @ r @ h + ve
        e = y[t] - yhat
        k = r @ h / q
        beta = beta + k * e
        p = r - np.outer(k, h) @ r
        out.append({"state": [f(beta[0]), f(beta[1])], "cov": [f(v) for v in p.ravel()],
                    "e": f(e), "q": f(q)})
    return out


kalman_cases = []
for yn, xn, delta, ve in [("coint_pos_500_y", "coint_pos_500_x", 1e-4, 1e-3),
                          ("coint_short_50_y", "coint_short_50_x", 1e-3, 0.5)]:
    kalman_cases.append({"y": yn, "x": xn, "delta": delta, "ve": ve,
                         "steps": kalman_reference(series[xn], series[yn], delta, ve)})

doc = {
    "generator": "tests/golden/make_golden.py",
    "numpy": np.__version__,
    "statsmodels": statsmodels.__version__,
    "series": {k: [f(v) for v in s] for k, s in series.items()},
    "adf": adf_cases,
    "coint": coint_cases,
    "johansen": johansen_cases,
    "kalman": kalman_cases,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stats_golden.json")
with open(path, "w") as fh:
    json.dump(doc, fh, separators=(",", ":"))
print(f"wrote {path}: {os.path.getsize(path)} bytes, {len(adf_cases)} adf, "
      f"{len(coint_cases)} coint, {len(johansen_cases)} johansen, {len(kalman_cases)} kalman")
