"""pairflow.screen equals `pairflow screen --json` on the same file; the streaming Screener equals
the one-shot screen."""

import json

import numpy as np
import pandas as pd
import pytest

import pairflow

from conftest import cli


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    path = tmp_path_factory.mktemp("screen") / "wide.csv"
    cli("gen", "--format", "bars", "--out", path, "--seed", 5, "--symbols", 30, "--pairs", 4,
        "--sessions", 2)
    return path, pairflow.gen.bars(seed=5, symbols=30, pairs=4, sessions=2)


def cli_screen(path, *args):
    r = cli("screen", "--prices", path, "--json", *args)
    return json.loads(r.stdout), r.stderr.strip().splitlines()[-1]


def assert_same(frame, rows):
    assert len(frame) == len(rows)
    for (_, ours), theirs in zip(frame.iterrows(), rows):
        for key, value in theirs.items():
            got = ours[key]
            if isinstance(value, float) or value is None:
                if value is None:  # JSON has no NaN or infinity
                    assert not np.isfinite(got), key
                else:
                    assert got == value or (np.isnan(got) and np.isnan(value)), (key, got, value)
            else:
                assert got == value, (key, got, value)


@pytest.mark.parametrize("args,kwargs", [
    ((), {}),
    (("--rank-all",), {"rank_all": True}),
    (("--correction", "bonferroni", "--neighbours", "0", "--per-symbol", "1"),
     {"correction": "bonferroni", "neighbours": 0, "per_symbol": 1}),
    (("--window", "300", "--pair-test", "either", "--prescreen-pvalue", "1", "--max-hurst", "0.6",
      "--min-crossings", "5", "--stability-splits", "2", "--top", "3"),
     {"window": 300, "pair_test": "either", "prescreen_pvalue": 1.0, "max_hurst": 0.6,
      "min_crossings": 5, "stability_splits": 2, "top": 3}),
])
def test_screen_equals_the_cli(market, args, kwargs):
    path, generated = market
    rows, summary = cli_screen(path, "--log", *args)
    prices = pd.read_csv(path, index_col="ts", float_precision="round_trip")
    frame = pairflow.screen(prices, log=True, **kwargs)
    assert_same(frame, rows)
    assert frame.attrs["summary"] == summary
    # The generated DataFrame is the file's content.
    pd.testing.assert_frame_equal(generated.prices.reset_index(drop=True),
                                  prices.reset_index(drop=True), check_names=False)
    assert_same(pairflow.screen(generated.prices, log=True, **kwargs), rows)


def test_screen_finds_the_planted_pairs(market):
    _, generated = market
    found = pairflow.screen(generated.prices, log=True)
    planted = {frozenset(p) for p in zip(generated.truth.y, generated.truth.x)}
    listed = {frozenset(p) for p in zip(found.y, found.x)}
    assert len(planted & listed) >= 3
    assert found.index[0] == 1 and found.index.name == "rank"
    assert found["selected"].all()
    # The raw pair p-value the correction accepted bounds every selected pair's.
    assert found["pair_pvalue"].max() <= found.attrs["counts"]["pvalue_cutoff"] <= 0.05


def test_untestable_columns_warn_and_are_left_out(market):
    _, generated = market
    prices = generated.prices.copy()
    prices["FLAT"] = 10.0
    prices["EMPTY"] = np.nan
    with pytest.warns(UserWarning, match="2 of 32 columns cannot be tested"):
        frame = pairflow.screen(prices, log=True)
    assert "FLAT" not in set(frame.y) | set(frame.x)
    assert frame.attrs["untestable"] == ["FLAT (constant in the window)",
                                         "EMPTY (no values in the window)"]


def test_screen_bad_input():
    with pytest.raises(pairflow.Error, match="data rows: the screen needs at least 21"):
        pairflow.screen(pd.DataFrame({"a": np.arange(1.0, 11), "b": np.arange(2.0, 12)}))
    with pytest.raises(pairflow.Error, match="log needs positive values"):
        pairflow.screen(pd.DataFrame({"a": -np.arange(1.0, 40), "b": np.arange(2.0, 41)}),
                        log=True)
    with pytest.raises(pairflow.Error, match="correction"):
        pairflow.screen(np.ones((40, 3)), correction="holm")
    with pytest.raises(TypeError, match="unknown option"):
        pairflow.Screener(["a", "b"], windw=30)


def test_streaming_screener_equals_the_one_shot_screen(market):
    _, generated = market
    logs = np.log(generated.prices)
    window = 200
    s = pairflow.Screener(logs.columns, window=window)
    s.update(logs.iloc[: len(logs) - 40])
    for _, row in logs.iloc[len(logs) - 40:].iterrows():
        s.on_bar(row)
    assert s.bars == len(logs) and s.window == window
    assert s.ready(logs.columns[0])
    streamed = s.screen()
    once = pairflow.screen(logs, window=window)
    pd.testing.assert_frame_equal(streamed[["y", "x", "stage"]], once[["y", "x", "stage"]])
    np.testing.assert_allclose(streamed["pvalue"], once["pvalue"], rtol=1e-6)
    a, b = logs.columns[:2]
    r = np.diff(logs[[a, b]].to_numpy()[-window - 1:], axis=0)
    assert abs(s.correlation(a, b) - np.corrcoef(r.T)[0, 1]) < 1e-9
    with pytest.raises(pairflow.Error, match="unknown symbol"):
        s.correlation(a, "NOPE")
