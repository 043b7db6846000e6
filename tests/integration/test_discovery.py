"""Pair discovery on markets pairflow did not generate: the harness's smallest family (a
regression guard on its figures, not a timing test), small real universes against statsmodels
with the stated correction, the new `pairflow screen` options and the warm-up and streaming
methods selecting the same way."""
import io
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import BUILD, PAIRFLOW, ROOT

HARNESS = os.path.join(ROOT, "bench", "discovery", "harness.py")


def sanitizer_build():
    cache = os.path.join(BUILD, "CMakeCache.txt")
    return os.path.exists(cache) and "CMAKE_BUILD_TYPE:STRING=Debug" in open(cache).read()


def screen(path, *args, log=False):
    cmd = [PAIRFLOW, "screen", "--prices", path, "--json", *args] + (["--log"] if log else [])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout), out.stderr


@pytest.mark.skipif(sanitizer_build(), reason="figures are guarded by the release run; the "
                    "sanitizer run of the same screen code is the rest of this file (the anchor "
                    "over every pair takes minutes under ASan)")
def test_harness_smoke_family_meets_the_targets(tmp_path):
    out = subprocess.run([sys.executable, HARNESS, "--pairflow", PAIRFLOW, "--size", "smoke",
                          "--check", "--verify", "15", "--json", str(tmp_path / "figures.json")],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    pooled = json.loads((tmp_path / "figures.json").read_text())["pooled"]
    assert pooled["p_at_k"] >= pooled["anchor_p_at_k"] + 0.10
    assert pooled["fdp"] <= 0.10 and pooled["null_listed"] <= 1.0
    # Every universe's anchor was checked against statsmodels itself.
    for u in json.loads((tmp_path / "figures.json").read_text())["universes"]:
        assert u["anchor_max_diff"] <= 1e-6


def real_universe(name):
    import statsmodels.api as sm
    if name == "danish":
        d = sm.datasets.danish_data.load_pandas().data.reset_index(drop=True)
        return d[["lrm", "lry", "lpy", "ibo", "ide"]]
    if name.startswith("macro"):
        m = sm.datasets.macrodata.load_pandas().data
        if name == "macro-levels":
            return np.log(m[["realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1",
                             "pop"]])
        return m[["tbilrate", "unemp", "realint", "infl"]]
    if name == "interest-inflation":
        return sm.datasets.interest_inflation.load_pandas().data[["Dp", "R"]]
    # R's daily closes of DAX, SMI, CAC and FTSE, 1991-1998: SMI ~ FTSE is cointegrated.
    csv = subprocess.run(["Rscript", "-e", "write.csv(as.data.frame(EuStockMarkets), "
                          "stdout(), row.names = FALSE)"], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return np.log(pd.read_csv(io.StringIO(csv)))


def statsmodels_selection(frame, neighbours=3, q=0.05):
    """The stated procedure, written with statsmodels alone: each series with its `neighbours`
    most correlated series (differences), both coint directions (the pair's p is the larger),
    Benjamini-Hochberg at q over that family."""
    from statsmodels.stats.multitest import multipletests
    from statsmodels.tsa.stattools import coint
    cols = list(frame.columns)
    corr = frame.diff().dropna().corr().abs().values
    family = set()
    for a in range(len(cols)):
        near = [b for b in np.argsort(-corr[a], kind="stable") if b != a][:neighbours]
        family.update(tuple(sorted((a, b))) for b in near)
    family = sorted(family)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ps = [max(coint(frame[cols[a]], frame[cols[b]])[1], coint(frame[cols[b]], frame[cols[a]])[1])
              for a, b in family]
    reject = multipletests(ps, alpha=q, method="fdr_bh")[0]
    return {frozenset((cols[a], cols[b])) for (a, b), r in zip(family, reject) if r}


@pytest.mark.parametrize("name", ["danish", "macro-levels", "macro-rates", "interest-inflation",
                                  "eu-stock-markets"])
def test_real_universes_list_what_statsmodels_finds(tmp_path, name):
    frame = real_universe(name)
    path = tmp_path / f"{name}.csv"
    out = frame.copy()
    out.insert(0, "ts", pd.date_range("1960-01-01", periods=len(frame), freq="D")
               .strftime("%Y-%m-%dT00:00:00Z"))
    out.to_csv(path, index=False)
    rows, summary = screen(str(path))
    listed = {frozenset((r["y"], r["x"])) for r in rows}
    assert listed == statsmodels_selection(frame), summary
    if name == "eu-stock-markets":
        assert listed == {frozenset(("SMI", "FTSE"))}
    # The pre-screen is calibrated for recall: testing every family pair changes nothing.
    everything, _ = screen(str(path), "--prescreen-pvalue", "1")
    assert {frozenset((r["y"], r["x"])) for r in everything} == listed


def wide_market(tmp_path, seed=5, pairs=3):
    path = tmp_path / "wide.csv"
    subprocess.run([PAIRFLOW, "gen", "--format", "bars", "--out", str(path), "--symbols", "30",
                    "--pairs", str(pairs), "--sessions", "2", "--seed", str(seed)], check=True,
                   capture_output=True)
    return str(path)


def test_rank_all_lists_every_pair_with_its_stage(tmp_path):
    path = wide_market(tmp_path)
    rows, summary = screen(path, "--rank-all", log=True)
    assert len(rows) == 30 * 29 // 2
    stages = {r["stage"] for r in rows}
    assert "selected" in stages and "family" in stages
    selected = [r for r in rows if r["selected"]]
    assert rows[:len(selected)] == selected  # the selection heads the ranking
    default, _ = screen(path, log=True)
    assert [(r["y"], r["x"]) for r in default] == [(r["y"], r["x"]) for r in selected]
    for r in selected:
        assert r["pair_pvalue"] == max(r["pvalue"], r["pvalue_reverse"])
        assert r["adj_pvalue"] <= 0.05
    # The summary says what was tested and at what false-discovery level.
    assert "tested (each symbol's 3 nearest neighbours)" in summary
    assert "false-discovery rate 0.05 (Benjamini-Hochberg)" in summary
    assert f"{len(selected)} pairs selected of 435" in summary
    # ... and which raw pair p-value that level meant for this family.
    cutoff = max(r["pair_pvalue"] for r in rows
                 if r["adj_pvalue"] is not None and r["adj_pvalue"] <= 0.05)
    assert f"(pair p <= {cutoff:.3g})" in summary
    # --top K with --rank-all: the first K rows of the ranking, the selection capped at K.
    top, _ = screen(path, "--rank-all", "--top", "2", log=True)
    assert [(r["y"], r["x"]) for r in top] == [(r["y"], r["x"]) for r in rows[:2]]
    assert sum(r["selected"] for r in top) == min(2, len(selected))
    table = subprocess.run([PAIRFLOW, "screen", "--prices", path, "--log", "--rank-all", "--top",
                            "3"], capture_output=True, text=True, timeout=60)
    assert table.returncode == 0 and len(table.stdout.strip().splitlines()) == 1 + 3 + 1


def test_screen_options_reject_bad_values_in_one_line(tmp_path):
    path = wide_market(tmp_path)
    for args, message in [(["--pair-test", "sometimes"], "pair_test must be 'both' or 'either'"),
                          (["--neighbours", "-1"], "--neighbours"),
                          (["--correction", "holm"], "correction must be")]:
        out = subprocess.run([PAIRFLOW, "screen", "--prices", path, *args], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 2, args
        assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.mark.heavy
def test_warmup_and_screener_methods_select_the_same_pairs(tmp_path):
    """The warm-up discovery runs the screener's selection: over the same window both list the
    same pairs (the warm-up's are the first to activate)."""
    ticks = tmp_path / "ticks.csv"
    subprocess.run([PAIRFLOW, "gen", "--out", str(ticks), "--symbols", "30", "--pairs", "3",
                    "--sessions", "3", "--seed", "7"], check=True, capture_output=True)
    picked = {}
    for method in ("warmup", "screener"):
        summary = tmp_path / f"{method}.json"
        subprocess.run([PAIRFLOW, "backtest", "--ticks", str(ticks), "--summary", str(summary),
                        "--set", f"discovery.method={method}", "--set",
                        "screener.activate_after=1"], check=True, capture_output=True)
        pairs = json.loads(summary.read_text())["pairs"]
        picked[method] = [frozenset((p["y"], p["x"])) for p in pairs]
    first = picked["screener"][:len(picked["warmup"])]
    assert set(first) == set(picked["warmup"]) and picked["warmup"]


@pytest.mark.skipif(sanitizer_build(), reason="two five-session backtests take minutes under "
                    "ASan; the backtest path runs under the sanitizers in the other tests")
def test_generated_tick_market_trades_its_planted_pairs_and_the_null_twin_nothing():
    sys.path.insert(0, os.path.dirname(HARNESS))
    from tick_markets import run_market
    with tempfile.TemporaryDirectory() as tmp:
        market = run_market(PAIRFLOW, tmp, seed=1, planted=4)
        assert market["planted_traded"] >= 3, market
        assert market["net_pnl"] > 0, market
        null = run_market(PAIRFLOW, tmp, seed=1, planted=0)
        assert null["traded"] == 0, null
