#!/usr/bin/python3
"""Pair discovery judged on generated universes unlike the demo's (universe.py), against the
anchor a researcher would use: statsmodels' coint p-value ranking of every pair on the same file.

    /usr/bin/python3 bench/discovery/harness.py --pairflow build/bin/pairflow [--size bench]
        [--check] [--legacy] [--keep DIR] [--seed-offset N] [--screen-args "--neighbours 1 ..."]

For each universe (seeds and parameters printed) it runs `pairflow screen --rank-all` with its
defaults and reports:
  P@K    precision of the first K pairs of the ranking, K = planted pairs (pairflow, anchor);
  sel    pairs the default selection lists, TP of them planted, recall = TP / planted;
  null   universes without planted pairs: the number of pairs listed (every one is false);
and the same figures for the anchor's selection, Benjamini-Hochberg at 5 % over every pair.
Pooled figures close the table. The anchor ranks each pair (a, b), a before b in column order, by
statsmodels.tsa.stattools.coint(log a, log b) with its defaults, as the ten-line loop does. Running
statsmodels over every pair of the larger universes takes hours (about 55 ms a test at 1,500
bars), so the anchor's p-values come from pairflow's own Engle-Granger, which equals statsmodels
to 1e-6 (golden tests), and the script checks that here: on --verify random pairs of every
universe it calls statsmodels and fails when any p-value differs by more than 1e-6.

--check asserts the regression guard of the smoke family (make test). --legacy judges a binary
without --rank-all (the ranking is then its --correction none --max-pvalue 1 list).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from universe import UniverseSpec, family, generate  # noqa: E402


def screen(pairflow, path, *extra):
    start = time.perf_counter()
    out = subprocess.run([pairflow, "screen", "--prices", path, "--log", "--json", *extra],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout), time.perf_counter() - start, out.stderr


def anchor_pvalues(pairflow, path, columns):
    """Engle-Granger p-value of every pair (a on b, a before b in column order)."""
    rows, _, _ = screen(pairflow, path, "--rank-all", "--prescreen-pvalue", "1", "--min-corr", "0",
                        "--correction", "none", "--max-pvalue", "1", "--stability-splits", "0",
                        "--per-symbol", "0", "--neighbours", "0", "--no-triangles", "--max-hurst", "100", "--min-crossings", "0",
                        "--min-half-life", "0", "--max-half-life", "1e12")
    index = {c: i for i, c in enumerate(columns)}
    out = {}
    for r in rows:
        a, b = r["y"], r["x"]
        p = r["pvalue"] if index[a] < index[b] else r["pvalue_reverse"]
        key = (a, b) if index[a] < index[b] else (b, a)
        out[key] = 1.0 if p is None else p
    return out


def verify_anchor(frame, pvalues, count, rng):
    from statsmodels.tsa.stattools import coint
    logs = np.log(frame.drop(columns="ts").ffill())
    keys = sorted(pvalues)
    worst = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for a, b in rng.sample(keys, min(count, len(keys))):
            p = coint(logs[a].values, logs[b].values)[1]
            worst = max(worst, abs(p - pvalues[(a, b)]))
    return worst


def bh_reject(pvalues, q):
    """Benjamini-Hochberg at level q over the listed p-values: the indices rejected."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    m, last = len(pvalues), 0
    for rank, i in enumerate(order, 1):
        if pvalues[i] <= q * rank / m:
            last = rank
    return set(order[:last])


def precision_at(ranking, truth, k):
    if k == 0:
        return None
    return sum(1 for pair in ranking[:k] if pair in truth) / k


def judge(args, spec, tmp, rng):
    frame, truth_rows = generate(spec)
    path = os.path.join(tmp, spec.name + ".csv")
    frame.to_csv(path, index=False)
    if args.keep:
        with open(os.path.join(tmp, spec.name + ".truth.json"), "w") as f:
            json.dump(truth_rows, f, indent=1)
    columns = list(frame.columns[1:])
    truth = {frozenset((t["y"], t["x"])) for t in truth_rows}
    k = len(truth)
    if args.legacy:
        rows, secs, _ = screen(args.pairflow, path, "--correction", "none", "--max-pvalue", "1")
        ranking = [frozenset((r["y"], r["x"])) for r in rows]
        selected_rows, secs, _ = screen(args.pairflow, path)
        selected = [frozenset((r["y"], r["x"])) for r in selected_rows]
        anchor = None
    else:
        rows, secs, summary = screen(args.pairflow, path, "--rank-all", *args.screen_args.split())
        ranking = [frozenset((r["y"], r["x"])) for r in rows]
        selected = [frozenset((r["y"], r["x"])) for r in rows if r["selected"]]
        anchor = anchor_pvalues(args.pairflow, path, columns)
    result = {"name": spec.name, "seed": spec.seed, "symbols": spec.symbols, "bars": spec.bars,
              "planted": k, "seconds": secs, "selected": len(selected),
              "tp": sum(1 for p in selected if p in truth),
              "p_at_k": precision_at(ranking, truth, k)}
    if anchor is not None:
        order = sorted(anchor, key=lambda key: (anchor[key], key))
        result["anchor_p_at_k"] = precision_at([frozenset(key) for key in order], truth, k)
        # The anchor's selection: Benjamini-Hochberg at 5 % over every pair's coint p-value.
        keys = list(anchor)
        chosen = [frozenset(keys[i]) for i in bh_reject([anchor[key] for key in keys], 0.05)]
        result["anchor_selected"] = len(chosen)
        result["anchor_tp"] = sum(1 for p in chosen if p in truth)
        result["anchor_max_diff"] = verify_anchor(frame, anchor, args.verify, rng)
        if result["anchor_max_diff"] > 1e-6:
            raise SystemExit(f"{spec.name}: pairflow's Engle-Granger p-values differ from "
                             f"statsmodels' by {result['anchor_max_diff']:.2e} (> 1e-6)")
    return result


def fmt(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairflow", required=True)
    ap.add_argument("--size", default="bench", choices=["smoke", "bench"])
    ap.add_argument("--verify", type=int, default=20,
                    help="random pairs per universe checked against statsmodels")
    ap.add_argument("--check", action="store_true", help="assert the smoke family's guard")
    ap.add_argument("--legacy", action="store_true")
    ap.add_argument("--json", help="write the per-universe figures here")
    ap.add_argument("--seed-offset", type=int, default=0,
                    help="add this to every universe's seed: fresh draws of the same family, to "
                         "judge defaults chosen on the fixed seeds out of sample")
    ap.add_argument("--keep", metavar="DIR",
                    help="keep each universe's price file and planted pairs here (NAME.csv, "
                         "NAME.truth.json)")
    ap.add_argument("--screen-args", default="",
                    help="extra options for pairflow's screen (not the anchor's), to judge a "
                         "setting other than the defaults, e.g. \"--neighbours 1\"")
    args = ap.parse_args()
    rng = random.Random(7)
    results = []
    print(f"universes ({args.size}; every other parameter at UniverseSpec's default):")
    defaults = UniverseSpec("", 0, 0, 0, 0)
    specs = [dataclasses.replace(spec, seed=spec.seed + args.seed_offset)
             for spec in family(args.size)]
    for spec in specs:
        changed = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)
                   if getattr(spec, f.name) != getattr(defaults, f.name)}
        print("  " + ", ".join(f"{k}={v}" for k, v in changed.items()))
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        for spec in specs:
            results.append(judge(args, spec, tmp, rng))
            r = results[-1]
            print(f"{r['name']:<24} seed {r['seed']:>4} {r['symbols']:>4} sym {r['bars']:>5} bars "
                  f"planted {r['planted']:>3}  P@K {fmt(r['p_at_k'])} anchor "
                  f"{fmt(r.get('anchor_p_at_k'))}  selected {r['selected']:>3} TP {r['tp']:>3} "
                  f"(anchor {r.get('anchor_selected', '-'):>3} TP {r.get('anchor_tp', '-'):>3})  "
                  f"screen {r['seconds']:.2f} s", flush=True)
    planted = [r for r in results if r["planted"] > 0]
    nulls = [r for r in results if r["planted"] == 0]
    k_total = sum(r["planted"] for r in planted)
    pooled = {
        "p_at_k": sum(r["p_at_k"] * r["planted"] for r in planted) / k_total,
        "recall": sum(r["tp"] for r in planted) / k_total,
        "fdp": (sum(r["selected"] - r["tp"] for r in planted) /
                max(1, sum(r["selected"] for r in planted))),
        "null_listed": sum(r["selected"] for r in nulls) / max(1, len(nulls)),
    }
    if not args.legacy:
        pooled["anchor_p_at_k"] = sum(r["anchor_p_at_k"] * r["planted"] for r in planted) / k_total
        pooled["anchor_recall"] = sum(r["anchor_tp"] for r in planted) / k_total
        pooled["anchor_fdp"] = (sum(r["anchor_selected"] - r["anchor_tp"] for r in planted) /
                                max(1, sum(r["anchor_selected"] for r in planted)))
        pooled["anchor_null_listed"] = (sum(r["anchor_selected"] for r in nulls) /
                                        max(1, len(nulls)))
    print(f"pooled over {len(planted)} planted universes ({k_total} pairs) and {len(nulls)} null:")
    print(f"  ranking precision@K   pairflow {pooled['p_at_k']:.3f}"
          + (f"   statsmodels coint {pooled['anchor_p_at_k']:.3f}" if not args.legacy else ""))
    print(f"  default selection     recall {pooled['recall']:.3f}   false-discovery proportion "
          f"{pooled['fdp']:.3f}   null universes list {pooled['null_listed']:.2f} pairs on average")
    if not args.legacy:
        print(f"  statsmodels coint + BH 5 % over every pair: recall {pooled['anchor_recall']:.3f}   "
              f"false-discovery proportion {pooled['anchor_fdp']:.3f}   null universes list "
              f"{pooled['anchor_null_listed']:.2f} pairs on average")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"universes": results, "pooled": pooled}, f, indent=1)
    if args.check:
        failures = []
        if pooled["p_at_k"] < pooled["anchor_p_at_k"] + 0.10:
            failures.append("ranking precision@K is not 0.10 above statsmodels'")
        if pooled["fdp"] > 0.10:
            failures.append("false-discovery proportion above 10 %")
        if pooled["null_listed"] > 1.0:
            failures.append("null universes list more than one pair on average")
        if pooled["recall"] < 0.5:
            failures.append("recall below 0.5")
        if failures:
            raise SystemExit("discovery guard failed: " + "; ".join(failures))


if __name__ == "__main__":
    main()
