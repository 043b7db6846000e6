#!/usr/bin/python3
"""End to end on generated tick markets: `pairflow gen` (40 symbols, 4 planted pairs, 5 sessions)
for several seeds, each with its null twin (no planted pairs), replayed by `pairflow backtest` with
the default configuration. Prints, per market, the distinct pairs traded, how many of the planted
ones, the false ones, and the net P&L after costs.

    /usr/bin/python3 bench/discovery/tick_markets.py --pairflow build/bin/pairflow [--seeds 1,2,3,4]
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairflow", required=True)
    ap.add_argument("--seeds", default="1,2,3,4")
    ap.add_argument("--set", action="append", default=[], help="backtest override (repeatable)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for planted in (4, 0):
            for seed in (int(s) for s in args.seeds.split(",")):
                r = run_market(args.pairflow, tmp, seed, planted, extra=args.set)
                print(f"seed {seed} planted {r['planted']}: {r['planted_traded']} planted and "
                      f"{r['false_traded']} false pairs traded, {r['trades']} trades, net P&L "
                      f"{r['net_pnl']:.2f}", flush=True)


if __name__ == "__main__":
    main()
