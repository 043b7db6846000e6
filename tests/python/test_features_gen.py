"""pairflow.features and pairflow.gen equal `pairflow features` and `pairflow gen`."""

import json

import numpy as np
import pandas as pd
import pytest

import pairflow

from conftest import cli

INDICATORS = "logret,sma:5,ema:10,std:20,zscore:20,ewmvol:10,rsi,atr,hurst:50"


@pytest.fixture(scope="module")
def ticks_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("features") / "ticks.csv"
    cli("gen", "--out", path, "--seed", 3, "--symbols", 6, "--pairs", 1, "--sessions", 1)
    return path


def read_cli_features(path):
    return pd.read_csv(path, float_precision="round_trip", keep_default_na=False,
                       na_values=[""])


@pytest.mark.parametrize("bars", ["1m", "tick:50", "volume:20000"])
def test_features_equal_the_cli(tmp_path, ticks_file, bars):
    out = tmp_path / "features.csv"
    cli("features", "--ticks", ticks_file, "--bars", bars, "--indicators", INDICATORS, "--out",
        out)
    theirs = read_cli_features(out)
    from_path = pairflow.features.bars(ticks_file, bars=bars, indicators=INDICATORS)
    from_frame = pairflow.features.bars(pairflow.read_ticks(ticks_file), bars=bars,
                                        indicators=INDICATORS.split(","))
    pd.testing.assert_frame_equal(from_path, from_frame)
    assert len(from_path) == len(theirs) > 0
    assert list(from_path.columns) == list(theirs.columns)
    assert (from_path["ts"] == pd.to_datetime(theirs["ts"], utc=True)).all()
    assert (from_path["symbol"] == theirs["symbol"]).all()
    for col in theirs.columns[2:]:
        np.testing.assert_array_equal(from_path[col].to_numpy(dtype=float),
                                      theirs[col].to_numpy(dtype=float), err_msg=col)
    assert from_path.attrs["ticks"] > 0 and from_path.attrs["rejected"] == 0


def test_features_bad_ticks_raise_with_the_row():
    ticks = pd.DataFrame({"ts": pd.date_range("2024-01-02 14:30", periods=5, freq="s", tz="UTC"),
                          "symbol": ["A"] * 5, "price": [10.0, 10.1, np.nan, 10.2, 10.3],
                          "size": [1.0] * 5})
    with pytest.raises(pairflow.Error, match=r"ticks row 2: .*max_rejects"):
        pairflow.features.bars(ticks, bars="1s")
    out = pairflow.features.bars(ticks, bars="1s", max_rejects=-1)
    assert out.attrs["rejected"] == 1 and len(out) == 4
    with pytest.raises(pairflow.Error, match="missing column 'price'"):
        pairflow.features.bars(ticks.drop(columns="price"))
    with pytest.raises(pairflow.Error, match="bars"):
        pairflow.features.bars(ticks, bars="1 fortnight")
    with pytest.raises(pairflow.Error, match="indicators"):
        pairflow.features.bars(ticks, indicators="macd")


def test_read_ticks_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("ts,symbol,price,size\n2024-01-02T14:30:00Z,A,10,1\n"
                   "2024-01-02T14:30:01Z,A,ten,1\n")
    with pytest.raises(pairflow.Error, match=r"bad.csv:3: .*price"):
        pairflow.read_ticks(bad)
    assert pairflow.read_ticks(bad, max_rejects=-1).attrs["rejected"] == 1


def test_gen_ticks_equal_the_cli(tmp_path):
    out = tmp_path / "ticks.csv"
    cli("gen", "--out", out, "--seed", 9, "--symbols", 8, "--pairs", 2, "--sessions", 1)
    market = pairflow.gen.ticks(seed=9, symbols=8, pairs=2, sessions=1)
    theirs = pairflow.read_ticks(out)
    pd.testing.assert_frame_equal(market.ticks, theirs[market.ticks.columns.tolist()])
    truth = json.loads((tmp_path / "ticks.csv.truth.json").read_text())
    assert market.truth.to_dict("records") == truth["planted"]
    assert market.seed == 9


def test_gen_bars_equal_the_cli(tmp_path):
    out = tmp_path / "wide.csv"
    cli("gen", "--format", "bars", "--interval", "5m", "--out", out, "--seed", 4, "--symbols", 10,
        "--pairs", 2, "--sessions", 2, "--set", "market.spread_std=0.002")
    market = pairflow.gen.bars("5m", seed=4, symbols=10, pairs=2, sessions=2, spread_std=0.002)
    theirs = pd.read_csv(out, index_col="ts", float_precision="round_trip")
    np.testing.assert_array_equal(market.prices.to_numpy(), theirs.to_numpy())
    assert list(market.prices.columns) == list(theirs.columns)
    assert (market.prices.index == pd.to_datetime(theirs.index, utc=True)).all()
    assert len(market.truth) == 2


def test_gen_bad_spec_raises():
    with pytest.raises(pairflow.Error, match="planted"):
        pairflow.gen.ticks(symbols=3, pairs=5)
    with pytest.raises(pairflow.Error, match="interval"):
        pairflow.gen.bars("7h", sessions=1)
    with pytest.raises(pairflow.Error):
        pairflow.gen.ticks(no_such_key=1)
