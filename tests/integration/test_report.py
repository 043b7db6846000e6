"""`pairflow report`: the metrics of a recorded backtest against an independent pandas
computation, a byte-identical HTML file for the same input, `backtest --report`, and one-line
errors for bad input."""
import json
import subprocess

import numpy as np
import pandas as pd
import pytest

from conftest import PAIRFLOW


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    ticks = tmp / "ticks.csv"
    subprocess.run([PAIRFLOW, "gen", "--out", str(ticks), "--symbols", "20", "--pairs", "3",
                    "--sessions", "4", "--seed", "5"], check=True, capture_output=True)
    out = subprocess.run([PAIRFLOW, "backtest", "--ticks", str(ticks), "--log-dir",
                          str(tmp / "run"), "--report", str(tmp / "direct.html")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return tmp


def pandas_metrics(run, risk_free):
    eq = pd.read_json(run / "pnl.jsonl", lines=True)
    capital = eq.equity.iloc[0] - eq.net_pnl.iloc[0]
    day = pd.to_datetime(eq.ts, unit="ns", utc=True).dt.strftime("%Y-%m-%d")
    daily = eq.groupby(day).equity.last()
    returns = daily / pd.concat([pd.Series([capital]), daily.iloc[:-1]]).values - 1
    days = len(returns)
    total = eq.equity.iloc[-1] / capital - 1
    annual = (1 + total) ** (252 / days) - 1
    excess = returns - ((1 + risk_free) ** (1 / 252) - 1)
    curve = pd.concat([pd.Series([capital]), eq.equity])
    drawdown = (curve / curve.cummax() - 1).min()
    fills = pd.read_json(run / "executions.jsonl", lines=True)
    fills = fills[fills.qty > 0].copy()
    fills["signed"] = np.where(fills.side == "buy", fills.qty, -fills.qty)
    trips, position, cash = [], {}, {}
    for f in fills.itertuples():
        pos = position.setdefault(f.pair, {})
        pos[f.symbol] = pos.get(f.symbol, 0) + f.signed
        cash[f.pair] = cash.get(f.pair, 0) - f.signed * f.price - f.fee
        if all(abs(q) < 1e-9 for q in pos.values()):
            trips.append(cash.pop(f.pair))
            position.pop(f.pair)
    trips = np.array(trips)
    held = fills.pivot_table(index="ts", columns="symbol", values="signed", aggfunc="sum").fillna(0)
    held = held.cumsum().reindex(eq.ts, method="ffill").fillna(0)
    return {
        "days": days, "total_return": total, "annual_return": annual,
        "annual_volatility": returns.std(ddof=1) * np.sqrt(252),
        "sharpe": excess.mean() / excess.std(ddof=1) * np.sqrt(252),
        "sortino": excess.mean() / np.sqrt((np.minimum(excess, 0) ** 2).mean()) * np.sqrt(252),
        "max_drawdown": drawdown, "calmar": annual / -drawdown,
        "trades": len(trips), "win_rate": (trips > 0).mean(),
        "profit_factor": (trips[trips > 0].sum() / -trips[trips <= 0].sum()
                          if (trips <= 0).any() else float("nan")),
        "average_trade": trips.mean(),
        "turnover": (fills.qty * fills.price).sum() / capital,
        "exposure": (held.abs() > 1e-9).any(axis=1).mean(),
        "fees": eq.fees.iloc[-1], "net_pnl": eq.net_pnl.iloc[-1],
    }


def report(run, *args):
    out = subprocess.run([PAIRFLOW, "report", "--run", str(run), *args], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_metrics_equal_an_independent_pandas_computation(run_dir):
    ours = json.loads(report(run_dir / "run", "--json", "--risk-free", "0.03"))
    reference = pandas_metrics(run_dir / "run", 0.03)
    assert ours["trades"] > 5 and ours["days"] == reference["days"] == 4
    assert 0 < ours["win_rate"] < 1 and ours["profit_factor"] is not None  # wins and losses
    for key, value in reference.items():
        if not np.isfinite(value):  # undefined (no losing round trip, ...): null in JSON
            assert ours[key] is None, key
        else:
            assert ours[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_the_same_run_gives_the_same_bytes_and_backtest_writes_it_directly(run_dir):
    report(run_dir / "run", "--out", str(run_dir / "a.html"))
    report(run_dir / "run", "--out", str(run_dir / "b.html"))
    a = (run_dir / "a.html").read_bytes()
    assert a == (run_dir / "b.html").read_bytes()
    # backtest --report reads the same run directory; only the title differs.
    direct = (run_dir / "direct.html").read_text()
    assert direct.replace("pairflow backtest " + str(run_dir / "ticks.csv"), "pairflow run") == \
        a.decode()
    text = a.decode()
    assert "http" not in text and "<script" not in text  # opens without a network
    for heading in ("Metrics", "equity", "underwater", "rolling Sharpe", "daily", "monthly",
                    "Per pair", "Trades", "cost of realism"):
        assert heading in text, heading


def test_bad_input_is_one_line_naming_the_problem(tmp_path):
    cases = [(["--run", str(tmp_path / "none"), "--out", "x.html"], "not a run directory"),
             (["--run", str(tmp_path)], "give --out FILE, --json or both")]
    (tmp_path / "pnl.jsonl").write_text('{"ts":1,"equity":100,"net_pnl":0,"fees":0}\nnot json\n')
    cases.append((["--run", str(tmp_path), "--json"], "pnl.jsonl:2: not a JSON object"))
    for args, message in cases:
        out = subprocess.run([PAIRFLOW, "report", *args], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 2, args
        assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
