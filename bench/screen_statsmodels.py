#!/usr/bin/python3
"""`pairflow screen` over a whole wide price file against the loop a researcher would write with
statsmodels (coint on every pair of columns), on the same generated file, in one run.

    /usr/bin/python3 bench/screen_statsmodels.py --pairflow build/bin/pairflow [--symbols 40]

Prints both wall times (the pairflow figure includes process start-up and CSV parsing) and the
ratio. statsmodels runs single-threaded (OPENBLAS_NUM_THREADS=1) so the comparison is per core.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from statsmodels.tsa.stattools import coint  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairflow", required=True)
    ap.add_argument("--symbols", type=int, default=40)
    ap.add_argument("--sessions", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wide = os.path.join(tmp, "wide.csv")
        subprocess.run([args.pairflow, "gen", "--format", "bars", "--out", wide, "--symbols",
                        str(args.symbols), "--pairs", "4", "--sessions", str(args.sessions),
                        "--seed", "9"], check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run([args.pairflow, "screen", "--prices", wide, "--log", "--json"], check=True,
                       capture_output=True)
        ours = time.perf_counter() - start
        prices = np.log(pd.read_csv(wide).drop(columns="ts"))
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pairs = 0
            for a, b in itertools.combinations(prices.columns, 2):
                coint(prices[a].values, prices[b].values)
                pairs += 1
        theirs = time.perf_counter() - start
    print(f"{args.symbols} symbols x {len(prices)} bars, {pairs} pairs")
    print(f"pairflow screen (whole file, incl. start-up): {ours * 1e3:9.1f} ms")
    print(f"statsmodels coint loop over the same pairs:   {theirs * 1e3:9.1f} ms")
    print(f"ratio: {theirs / ours:.0f}x")


if __name__ == "__main__":
    main()
