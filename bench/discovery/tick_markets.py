#!/usr/bin/python3
"""End to end on generated tick markets, replayed by `pairflow backtest` with the default
configuration (plus --set overrides):
  demo      `pairflow gen` (40 symbols, 4 planted pairs, 5 sessions) for several seeds, each with
            its null twin (no planted pairs);
  universe  markets from another generator, bench/discovery/universe.py (Student-t factor model,
            microstructure noise, symbols reverting on their own; 40 symbols, 5 sectors, 4 planted
            pairs with half-lives of 5-30 bars, 5 sessions of 390 one-minute bars), each bar's
            close reached by three ticks; seeds 1-6 and a null market (seed 7).
Prints, per market, the distinct pairs traded, how many of the planted ones, the false ones, and
the net P&L after costs.

    /usr/bin/python3 bench/discovery/tick_markets.py --pairflow build/bin/pairflow
        [--generator demo|universe|both] [--seeds 1,2,3,4] [--set section.key=value ...]
"""
import argparse
import json
import os
import subprocess
import tempfile


def run_market(pairflow, tmp, seed, planted, symbols=40, sessions=5, extra=()):
    ticks = os.path.join(tmp, f"ticks_{planted}_{seed}.csv")
    subprocess.run([pairflow, "gen", "--out", ticks, "--symbols", str(symbols), "--pairs",
                    str(planted), "--sessions", str(sessions), "--seed", str(seed)], check=True,
                   capture_output=True)
    summary = os.path.join(tmp, f"summary_{planted}_{seed}.json")
    cmd = [pairflow, "backtest", "--ticks", ticks, "--summary", summary]
    for setting in extra:
        cmd += ["--set", setting]
    subprocess.run(cmd, check=True, capture_output=True)
    result = json.loads(open(summary).read())
    truth = {frozenset((p["y"], p["x"]))
             for p in json.loads(open(ticks + ".truth.json").read())["planted"]}
    traded = {frozenset((p["y"], p["x"])) for p in result["pairs"] if p["trades"] > 0}
    return {"seed": seed, "planted": len(truth), "traded": len(traded),
            "planted_traded": len(traded & truth), "false_traded": len(traded - truth),
            "net_pnl": result["net_pnl"], "trades": result["trades"]}


def universe_market(tmp, seed, planted):
    """A ticks CSV from universe.py's bars: three ticks per bar per symbol, the last at the close."""
    import sys

    import pandas as pd

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from universe import UniverseSpec, generate

    spec = UniverseSpec(f"ticks{seed}", seed, 40, 5 * 390, planted, sectors=5,
                        half_life=(5.0, 30.0))
    prices, truth = generate(spec)
    prices = prices.ffill()
    symbols = [c for c in prices.columns if c != "ts"]
    closes = prices[symbols].values
    start = pd.Timestamp("2025-03-03T14:30:00Z")
    rows = []
    for i in range(len(closes)):
        day, minute = divmod(i, 390)
        bar = start + pd.Timedelta(days=day, minutes=minute)
        for k, sym in enumerate(symbols):
            prev = closes[i - 1, k] if i > 0 else closes[i, k]
            for frac in (0.3, 0.6, 0.95):
                p = closes[i, k] if frac == 0.95 else prev + (closes[i, k] - prev) * frac
                ts = bar + pd.Timedelta(seconds=60 * frac, microseconds=k)
                rows.append((ts, sym, round(float(p), 4), 100))
    frame = pd.DataFrame(rows, columns=["ts", "symbol", "price", "size"]).sort_values(
        ["ts", "symbol"], kind="stable")
    frame["ts"] = frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    path = os.path.join(tmp, f"universe_{planted}_{seed}.csv")
    frame.to_csv(path, index=False)
    return path, {frozenset((p["y"], p["x"])) for p in truth}


def backtest(pairflow, ticks, truth, extra):
    summary = ticks + ".summary.json"
    cmd = [pairflow, "backtest", "--ticks", ticks, "--summary", summary]
    for setting in extra:
        cmd += ["--set", setting]
    subprocess.run(cmd, check=True, capture_output=True)
    result = json.loads(open(summary).read())
    traded = {frozenset((p["y"], p["x"])) for p in result["pairs"] if p["trades"] > 0}
    return {"planted": len(truth), "planted_traded": len(traded & truth),
            "false_traded": len(traded - truth), "net_pnl": result["net_pnl"],
            "trades": result["trades"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairflow", required=True)
    ap.add_argument("--generator", default="both", choices=["demo", "universe", "both"])
    ap.add_argument("--seeds", default="1,2,3,4", help="demo generator seeds")
    ap.add_argument("--set", action="append", default=[], help="backtest override (repeatable)")
    args = ap.parse_args()

    def show(label, r):
        print(f"{label} planted {r['planted']}: {r['planted_traded']} planted and "
              f"{r['false_traded']} false pairs traded, {r['trades']} trades, net P&L "
              f"{r['net_pnl']:.2f}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        if args.generator in ("demo", "both"):
            for planted in (4, 0):
                for seed in (int(s) for s in args.seeds.split(",")):
                    r = run_market(args.pairflow, tmp, seed, planted, extra=args.set)
                    show(f"demo seed {seed}", r)
        if args.generator in ("universe", "both"):
            for seed, planted in [(1, 4), (2, 4), (3, 4), (4, 4), (5, 4), (6, 4), (7, 0)]:
                ticks, truth = universe_market(tmp, seed, planted)
                show(f"universe seed {seed}", backtest(args.pairflow, ticks, truth, args.set))


if __name__ == "__main__":
    main()
