#!/usr/bin/python3
"""The Python module against statsmodels, in one script (make bench):

1. pairflow.stats.coint_all_pairs on 100 columns x 1,000 rows against a statsmodels coint loop
   over the same pairs (statsmodels' defaults: trend "c", autolag AIC);
2. pairflow.screen on 500 columns x 1,000 rows against the statsmodels loop a researcher would
   write for the same universe (coint on every pair).

statsmodels is timed on a fixed sample of the pairs (--sample, default 200; --full for all) and
its per-pair time scales to the whole set; the numbers of the sampled pairs are checked against
pairflow's. Both sides run on one core (OPENBLAS_NUM_THREADS=1, threads=1); the 2-thread figure
of coint_all_pairs is printed as well. Prints the figures and the ratios; exits non-zero only on
a mismatch, never on a time.

    PYTHONPATH=build/python OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/python/bench_python.py
"""

import argparse
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from statsmodels.tsa.stattools import coint  # noqa: E402

import pairflow  # noqa: E402


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def statsmodels_per_pair(data, pairs, sample, full, rng):
    picked = pairs if full or sample >= len(pairs) else [
        pairs[k] for k in sorted(rng.choice(len(pairs), sample, replace=False))]
    t0 = time.perf_counter()
    results = [coint(data[:, i], data[:, j]) for i, j in picked]
    elapsed = time.perf_counter() - t0
    return elapsed / len(picked), picked, results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=200)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(20261127)

    # 1. coint_all_pairs, 100 x 1,000: random walks with a few planted pairs.
    rows, cols = 1000, 100
    data = np.cumsum(rng.standard_normal((rows, cols)), axis=0)
    for k in range(0, 20, 2):
        data[:, k] = 0.5 + 1.3 * data[:, k + 1] + rng.standard_normal(rows) * 0.5
    frame = np.asfortranarray(data)
    pairs = [(i, j) for i in range(cols) for j in range(i + 1, cols)]
    ours_s, table = best_of(lambda: pairflow.stats.coint_all_pairs(frame, threads=1), a.repeats)
    two_s, _ = best_of(lambda: pairflow.stats.coint_all_pairs(frame, threads=2), a.repeats)
    per_pair, picked, results = statsmodels_per_pair(data, pairs, a.sample, a.full, rng)
    index = {p: k for k, p in enumerate(pairs)}
    worst = 0.0
    for (i, j), (t, p, _) in zip(picked, results):
        row = table.iloc[index[(i, j)]]
        worst = max(worst, abs(row.stat - t) / abs(t), abs(row.pvalue - p))
    theirs_s = per_pair * len(pairs)
    print(f"coint_all_pairs {cols} columns x {rows} rows ({len(pairs)} pairs):")
    print(f"  pairflow (1 thread)  {ours_s * 1e3:9.1f} ms  {len(pairs) / ours_s:10.0f} pairs/s")
    print(f"  pairflow (2 threads) {two_s * 1e3:9.1f} ms  {len(pairs) / two_s:10.0f} pairs/s")
    print(f"  statsmodels loop     {theirs_s * 1e3:9.1f} ms  {1 / per_pair:10.1f} pairs/s "
          f"({len(picked)} pairs timed)")
    print(f"  ratio (1 thread)     {theirs_s / ours_s:9.1f}x   largest difference on the timed "
          f"pairs: {worst:.2e}")
    if worst > 1e-6:
        print("MISMATCH with statsmodels", file=sys.stderr)
        return 1

    # 2. screen, 500 columns x 1,000 rows of a generated market (log prices).
    market = pairflow.gen.bars("1m", seed=3, symbols=500, pairs=20, sectors=10, sessions=3)
    logs = np.log(market.prices.iloc[-1000:])
    screen_s, found = best_of(lambda: pairflow.screen(logs), a.repeats)
    values = logs.to_numpy()
    n = values.shape[1]
    all_pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    per_pair, _, _ = statsmodels_per_pair(values, all_pairs, a.sample, False, rng)
    loop_s = per_pair * len(all_pairs)
    planted = {frozenset(p) for p in zip(market.truth.y, market.truth.x)}
    hits = len(planted & {frozenset(p) for p in zip(found.y, found.x)})
    print(f"screen {n} columns x {len(logs)} rows ({len(all_pairs)} pairs):")
    print(f"  pairflow.screen      {screen_s * 1e3:9.1f} ms  ({len(found)} pairs selected, "
          f"{hits} of {len(planted)} planted)")
    print(f"  statsmodels loop     {loop_s:9.1f} s   (estimated from {a.sample} timed pairs)")
    print(f"  ratio                {loop_s / screen_s:9.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
