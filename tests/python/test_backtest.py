"""pairflow.backtest makes byte-for-byte the decisions of `pairflow backtest`."""

import json

import numpy as np
import pytest

import pairflow

from conftest import ROOT, cli

CONFIG = ROOT / "examples" / "demo.toml"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A generated market, backtested by the CLI with its logs."""
    d = tmp_path_factory.mktemp("backtest")
    ticks = d / "ticks.csv"
    cli("gen", "--out", ticks, "--seed", 11, "--symbols", 24, "--pairs", 3, "--sessions", 3)
    logs = d / "cli"
    cli("backtest", "--ticks", ticks, "--config", CONFIG, "--log-dir", logs, "--summary",
        d / "summary.json")
    return ticks, logs, json.loads((d / "summary.json").read_text())


LOGS = ["signals.jsonl", "orders.jsonl", "executions.jsonl", "pnl.jsonl", "summary.json"]


def test_backtest_of_a_path_equals_the_cli_byte_for_byte(run, tmp_path):
    ticks, logs, summary = run
    r = pairflow.backtest(ticks, CONFIG, log_dir=tmp_path)
    assert r.summary == summary
    for name in LOGS:
        assert (tmp_path / name).read_bytes() == (logs / name).read_bytes(), name
    assert summary["orders"] > 0 and summary["trades"] > 0


def test_backtest_of_a_dataframe_equals_the_cli(run, tmp_path):
    ticks, logs, summary = run
    frame = pairflow.read_ticks(ticks)
    r = pairflow.backtest(frame, CONFIG, log_dir=tmp_path)
    assert r.summary == summary
    for name in LOGS:
        assert (tmp_path / name).read_bytes() == (logs / name).read_bytes(), name
    # The generator's DataFrame is the same market as its file.
    r2 = pairflow.backtest(pairflow.gen.ticks(seed=11, symbols=24, pairs=3, sessions=3).ticks,
                           CONFIG)
    assert r2.summary == summary


def test_result_frames_are_the_logs(run):
    ticks, logs, summary = run
    r = pairflow.backtest(ticks, CONFIG)

    def lines(name):
        return [json.loads(line) for line in (logs / name).read_text().splitlines()]

    orders = lines("orders.jsonl")
    assert len(r.orders) == len(orders) == summary["orders"]
    for ours, theirs in zip(r.orders.itertuples(), orders):
        assert ours.client_order_id == theirs["client_order_id"]
        assert ours.ts.value == theirs["ts"] and ours.symbol == theirs["symbol"]
        assert ours.side == theirs["side"] and ours.qty == theirs["qty"]
        assert ours.pair == theirs.get("pair", -1)
    executions = lines("executions.jsonl")
    assert len(r.executions) == len(executions)
    for ours, theirs in zip(r.executions.itertuples(), executions):
        assert ours.client_order_id == theirs["client_order_id"]
        assert ours.status == theirs["status"] and ours.qty == theirs["qty"]
    pnl = lines("pnl.jsonl")
    assert len(r.equity) == len(pnl)
    np.testing.assert_array_equal(r.equity["equity"], [p["equity"] for p in pnl])
    signals = lines("signals.jsonl")
    assert list(r.signals["action"]) == [s["action"] for s in signals]
    # Round trips and metrics: what `pairflow report` computes from the same run.
    report = json.loads(cli("report", "--run", logs, "--out", logs / "report.html",
                            "--json").stdout)
    assert r.metrics == report
    assert len(r.trades) == report["trades"] > 0


def test_config_dict_equals_set_overrides(run, tmp_path):
    ticks, _, _ = run
    theirs = tmp_path / "s.json"
    cli("backtest", "--ticks", ticks, "--config", CONFIG, "--set", "pair_model.entry_z=1.5",
        "--set", "discovery.top_k=2", "--summary", theirs)
    r = pairflow.backtest(ticks, CONFIG, overrides={"pair_model": {"entry_z": 1.5},
                                                    "discovery": {"top_k": 2}})
    assert r.summary == json.loads(theirs.read_text())
    text = pairflow.to_toml({"pair_model": {"entry_z": 1.5}, "discovery": {"top_k": 2}})
    assert text == "[pair_model]\nentry_z = 1.5\n\n[discovery]\ntop_k = 2\n"


def test_backtest_bad_input(run, tmp_path):
    ticks, _, _ = run
    with pytest.raises(pairflow.Error, match="top_k"):
        pairflow.backtest(ticks, {"discovery": {"top_k": 0}})
    with pytest.raises(pairflow.Error, match="not in a section"):
        pairflow.backtest(ticks, {"top_k": 3})
    with pytest.raises(pairflow.Error, match="nope.csv"):
        pairflow.backtest(tmp_path / "nope.csv")
    frame = pairflow.read_ticks(ticks).head(2000).copy()
    frame.loc[100, "price"] = -5.0
    with pytest.raises(pairflow.Error, match=r"ticks row 100: price -5 .*input.max_rejects"):
        pairflow.backtest(frame)
    r = pairflow.backtest(frame, max_rejects=-1)
    assert r.summary["rejects"]["bad_price"]["count"] == 1
    assert r.summary["rejects"]["bad_price"]["first"].startswith("ticks row 100: ")
    with pytest.raises(TypeError):
        pairflow.backtest(42)
