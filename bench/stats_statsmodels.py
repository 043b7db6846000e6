#!/usr/bin/python3
"""statsmodels baseline for bench/stats_bench.cc: coint(y, x) (trend "c", autolag AIC) on the
same kind of pairs, single-threaded BLAS. Prints tests/s; with --cpp PATH it also runs the C++
benchmark binary and prints the speed-up ratio from the same run.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # per-core comparison
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from statsmodels.tsa.stattools import coint  # noqa: E402


def make_pair(n, seed):
    rng = np.random.default_rng(seed)
    x = 100 + np.cumsum(rng.standard_normal(n))
    u = np.zeros(n)
    e = rng.standard_normal(n)
    for i in range(1, n):
        u[i] = 0.8 * u[i - 1] + e[i]
    return 2.0 + 1.5 * x + u, x


def rate(n, seconds):
    pairs = [make_pair(n, 42 + s) for s in range(16)]
    count, start = 0, time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while time.perf_counter() - start < seconds:
            y, x = pairs[count % len(pairs)]
            coint(y, x, trend="c", autolag="aic")
            count += 1
    return count / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--cpp", help="path to the stats_bench binary, to print the ratio")
    args = ap.parse_args()
    cpp = {}
    if args.cpp:
        out = subprocess.run([args.cpp, "--benchmark_filter=BM_CointAic",
                              "--benchmark_format=json"], check=True, capture_output=True,
                             text=True).stdout
        for b in json.loads(out)["benchmarks"]:
            cpp[int(b["name"].split("/")[1])] = b["items_per_second"]
    for n in (500, 2000):
        r = rate(n, args.seconds)
        line = f"statsmodels coint n={n}: {r:10.1f} tests/s"
        if n in cpp:
            line += f" | pairflow {cpp[n]:12.1f} tests/s | ratio {cpp[n] / r:7.1f}x"
        print(line)


if __name__ == "__main__":
    main()
