#!/usr/bin/python3
"""Size and power of the screen's pair test on the harness's universes, by kind of pair: how often
the Engle-Granger pair p-value (the larger of the two directions, as `--pair-test both`) falls
below 1e-3, 1e-2 and 0.05 for planted pairs (power) and for each kind of unrelated pair in the
screen's family (size; a valid test rejects at most at the level):

  plain      two symbols with no planted relation, neither reverting nor a clone;
  reverting  one of them has a stationary component of its own (universe.py's reverting_fraction);
  leg-decoy  one of them is a planted leg, the other is not its partner;
  clone      one of them is a near-clone of a planted leg.

    /usr/bin/python3 bench/discovery/size.py [--universes u300-long,null-u100]
        [--seed-offsets 0,1000] [--lags aic,maic]

Lag selection `aic` is statsmodels' coint (Schwert's maxlag, AIC on a common sample; checked
against statsmodels here); `maic` is the modified AIC of Ng and Perron (2001), which penalises
lags by how far the level coefficient is from zero, designed for the size distortion of
Dickey-Fuller tests under a negative moving-average part. The family is each symbol's 3 nearest
neighbours by |correlation of log returns|, as the screen's default. Slow (numpy least squares,
about 10 ms a test): minutes per universe.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from statsmodels.tsa.adfvalues import mackinnonp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from universe import family, generate  # noqa: E402

LEVELS = (1e-3, 1e-2, 0.05)


def _design(u, kmax):
    du = np.diff(u)
    n = len(du)
    lags = [du[kmax - j:n - j] for j in range(1, kmax + 1)]
    return du[kmax:], u[kmax:-1], (np.column_stack(lags) if lags else np.empty((n - kmax, 0)))


def _adf_t(u, k):
    y, level, lags = _design(u, k)
    x = np.column_stack([level, lags])
    b = np.linalg.lstsq(x, y, rcond=None)[0]
    e = y - x @ b
    s2 = e @ e / (len(y) - x.shape[1])
    return b[0] / math.sqrt(s2 * np.linalg.inv(x.T @ x)[0, 0])


def _lag(u, rule):
    kmax = int(math.ceil(12 * (len(u) / 100.0) ** 0.25))
    y, level, lags = _design(u, kmax)
    nobs = len(y)
    best = None
    for k in range(kmax + 1):
        x = np.column_stack([level, lags[:, :k]])
        b = np.linalg.lstsq(x, y, rcond=None)[0]
        e = y - x @ b
        ssr = e @ e
        if rule == "aic":
            crit = nobs * math.log(ssr / nobs) + 2 * x.shape[1]
        else:  # Ng-Perron: tau(k) = b0^2 sum(level^2) / sigma2_k
            s2 = ssr / nobs
            tau = b[0] ** 2 * (level @ level) / s2
            crit = math.log(s2) + 2 * (tau + k) / nobs
        if best is None or crit < best[0]:
            best = (crit, k)
    return best[1]


def eg_pvalue(y, x, rule):
    """statsmodels' coint(y, x) p-value (trend 'c') with the given lag rule."""
    design = np.column_stack([np.ones_like(x), x])
    u = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return mackinnonp(_adf_t(u, _lag(u, rule)), regression="c", N=2)


def kind(a, b, planted, legs, details):
    if frozenset((a, b)) in planted:
        return "planted"
    if a in details["reverting"] or b in details["reverting"]:
        return "reverting"
    if a in legs or b in legs:
        return "leg-decoy"
    if a in details["clones"] or b in details["clones"]:
        return "clone"
    return "plain"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--universes", default="u300-long,u200-reverting-stocks,u120-eight-sectors,"
                    "u200-inverse,null-u100,null-u150-correlated,null-u200-reverting")
    ap.add_argument("--seed-offsets", default="0")
    ap.add_argument("--lags", default="aic,maic")
    args = ap.parse_args()
    rules = args.lags.split(",")
    names = args.universes.split(",")
    specs = {s.name: s for s in family("bench")}
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise SystemExit(f"unknown universe(s): {', '.join(unknown)}")
    counts = {}
    rng = np.random.default_rng(3)
    for offset in [int(v) for v in args.seed_offsets.split(",")]:
        for name in names:
            spec = dataclasses.replace(specs[name], seed=specs[name].seed + offset)
            details = {}
            frame, truth = generate(spec, details)
            cols = list(frame.columns[1:])
            logs = np.log(frame.drop(columns="ts").ffill().values)
            corr = np.corrcoef(np.diff(logs, axis=0).T)
            np.fill_diagonal(corr, 0.0)
            fam = set()
            for i in range(len(cols)):
                for j in np.argsort(-np.abs(corr[i]))[:3]:
                    fam.add((min(i, int(j)), max(i, int(j))))
            planted = {frozenset((t["y"], t["x"])) for t in truth}
            legs = {t["y"] for t in truth} | {t["x"] for t in truth}
            if "aic" in rules:  # the AIC rule is statsmodels' coint: check on two pairs
                from statsmodels.tsa.stattools import coint
                for i, j in [sorted(fam)[int(k)] for k in rng.integers(0, len(fam), 2)]:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        ref = coint(logs[:, i], logs[:, j])[1]
                    mine = eg_pvalue(logs[:, i], logs[:, j], "aic")
                    if abs(ref - mine) > 1e-8:
                        raise SystemExit(f"AIC rule differs from statsmodels: {mine} vs {ref}")
            for i, j in sorted(fam):
                k = kind(cols[i], cols[j], planted, legs, details)
                for rule in rules:
                    p = max(eg_pvalue(logs[:, i], logs[:, j], rule),
                            eg_pvalue(logs[:, j], logs[:, i], rule))
                    row = counts.setdefault((k, rule), [0] * (1 + len(LEVELS)))
                    row[0] += 1
                    for n, level in enumerate(LEVELS):
                        row[1 + n] += p <= level
            print(f"{spec.name} seed {spec.seed}: {len(fam)} family pairs", flush=True)
    print(f"{'pairs':<10} {'lags':<5} {'count':>6} " +
          " ".join(f"{'p<=' + format(level, 'g'):>9}" for level in LEVELS))
    for (k, rule), row in sorted(counts.items()):
        print(f"{k:<10} {rule:<5} {row[0]:>6} " +
              " ".join(f"{row[1 + n] / row[0]:>9.4f}" for n in range(len(LEVELS))))


if __name__ == "__main__":
    main()
