"""Generated markets with their ground truth: the generator of `pairflow gen` and the demo.

A seeded factor model (market, sector and idiosyncratic random walks) with planted cointegrated
pairs (some inverse); docs/generator.md describes it. The same spec gives the same market on any
machine.

    >>> m = pairflow.gen.bars(seed=7, symbols=40, pairs=4, sessions=2)
    >>> m.prices.shape, list(m.truth[["y", "x"]].itertuples(index=False))
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from . import _core
from ._config import resolve
from ._frames import labels, timestamps

__all__ = ["ticks", "bars", "Market"]


class Market(NamedTuple):
    """A generated market: `data` (ticks, or wide prices indexed by time), `truth` (the planted
    pairs) and the `seed`; `.ticks` and `.prices` name `data` for readability."""

    data: pd.DataFrame   # ticks (ts, symbol, price, size, bid, ask) or wide prices (ts index)
    truth: pd.DataFrame  # the planted pairs: y, x, hedge_ratio, intercept, half_life_s, spread_std
    seed: int

    @property
    def ticks(self) -> pd.DataFrame:
        return self.data

    @property
    def prices(self) -> pd.DataFrame:
        return self.data


def _spec(seed, symbols, pairs, sessions, sectors, market: dict) -> dict:
    spec = dict(market)
    for key, value in (("seed", seed), ("symbols", symbols), ("planted_pairs", pairs),
                       ("sessions", sessions), ("sectors", sectors)):
        if value is not None:
            spec[key] = value
    return {"market": spec} if spec else {}


def _truth(rows: list) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["y", "x", "hedge_ratio", "intercept", "half_life_s",
                                       "spread_std"])


def ticks(seed=None, symbols=None, pairs=None, sessions=None, sectors=None, config=None,
          **market) -> Market:
    """Every tick of a generated market, as `pairflow gen --format ticks` writes them.

    seed, symbols, pairs (planted), sessions (6.5 hours each), sectors, and any other [market]
    key (mean_tick_interval_s, spread_std, min_half_life_s, ...) as keywords; `config` (a TOML
    path or a dict) supplies the defaults, as --config does.

    Returns Market(data=ticks DataFrame, truth=planted pairs, seed); .ticks is .data.
    """
    path, sets = resolve(config, _spec(seed, symbols, pairs, sessions, sectors, market))
    r = _core.gen_ticks(path, sets)
    frame = pd.DataFrame({
        "ts": timestamps(r["ts"]),
        "symbol": labels(r["symbol"], r["names"]),
        "price": r["price"],
        "size": r["size"],
        "bid": r["bid"],
        "ask": r["ask"],
    })
    return Market(frame, _truth(r["truth"]), r["seed"])


def bars(interval="1m", seed=None, symbols=None, pairs=None, sessions=None, sectors=None,
         config=None, **market) -> Market:
    """Mid prices of a generated market at the end of each interval, one column per symbol, as
    `pairflow gen --format bars --interval I` writes them (the index is the interval's start).

    Returns Market(data=prices DataFrame, truth=planted pairs, seed); .prices is .data.
    """
    path, sets = resolve(config, _spec(seed, symbols, pairs, sessions, sectors, market))
    r = _core.gen_bars(path, sets, str(interval))
    frame = pd.DataFrame(r["prices"], columns=r["names"],
                         index=pd.Index(timestamps(r["ts"]), name="ts"))
    return Market(frame, _truth(r["truth"]), r["seed"])
