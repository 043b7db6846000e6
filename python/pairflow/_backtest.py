"""A whole backtest (`pairflow backtest`) from Python, and ticks read by the engine's reader."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import pandas as pd

from . import _core
from ._config import resolve
from ._frames import is_path, labels, tick_columns, timestamps


@dataclass
class BacktestResult:
    """What a backtest decided and did.

    summary: the summary JSON of `pairflow backtest --summary` as a dict.
    metrics: the report's metrics (`pairflow report`): returns, Sharpe, Sortino, drawdown, ...
    trades: round trips per pair (flat to flat): pair, legs, open, close, pnl, fees.
    signals, orders, executions: every one, in order (the --log-dir JSON lines as columns).
    equity: cash, equity, gross and net P&L and fees after every slice.
    pairs: activations and deactivations of pairs (screener mode).
    """

    summary: dict
    metrics: dict
    trades: pd.DataFrame
    signals: pd.DataFrame
    orders: pd.DataFrame
    executions: pd.DataFrame
    equity: pd.DataFrame
    pairs: pd.DataFrame = field(repr=False)

    def __repr__(self) -> str:
        s = self.summary
        return (f"BacktestResult(ticks={s.get('ticks')}, trades={s.get('trades')}, "
                f"orders={len(self.orders)}, net_pnl={s.get('net_pnl')}, "
                f"sharpe={s.get('sharpe')})")


def backtest(ticks, config=None, *, overrides=None, log_dir=None,
             max_rejects=None) -> BacktestResult:
    """Replays ticks through the engine, as `pairflow backtest --ticks FILE` does: the same
    decisions, orders, fills and P&L, byte for byte.

    ticks: a DataFrame (ts, symbol, price[, size, bid, ask, bid_size, ask_size]; ts as
    datetime64 or int64 nanoseconds) or a ticks CSV path.
    config: None (the defaults), a pipeline TOML path, or a dict such as
    {"pair_model": {"entry_z": 2.5}}; `overrides` (a dict of the same shape) applies on top, as
    --set does. log_dir: also write the run's JSON-lines logs and summary.json there (what
    `pairflow report --run DIR` reads). max_rejects: bad ticks tolerated (input.max_rejects).

    >>> r = pairflow.backtest("ticks.csv", {"discovery": {"top_k": 3}})
    >>> r.summary["net_pnl"], r.trades.head()
    """
    path, sets = resolve(config, overrides)
    log = os.fspath(log_dir) if log_dir is not None else ""
    if is_path(ticks):
        r = _core.backtest(os.fspath(ticks), None, path, sets, log, max_rejects)
    else:
        r = _core.backtest(None, tick_columns(ticks), path, sets, log, max_rejects)
    names = r["names"]
    sig = r["signals"]
    signals = pd.DataFrame({"ts": timestamps(sig["ts"]), "pair": sig["pair"], "z": sig["z"],
                            "hedge_ratio": sig["hedge_ratio"], "action": sig["action"]})
    o = r["orders"]
    orders = pd.DataFrame({"client_order_id": o["client_order_id"], "ts": timestamps(o["ts"]),
                           "symbol": labels(o["symbol"], names), "side": o["side"],
                           "qty": o["qty"], "type": o["type"], "limit": o["limit"],
                           "pair": o["pair"]})
    e = r["executions"]
    executions = pd.DataFrame({"client_order_id": e["client_order_id"],
                               "ts": timestamps(e["ts"]), "symbol": labels(e["symbol"], names),
                               "side": e["side"], "qty": e["qty"], "price": e["price"],
                               "fee": e["fee"], "status": e["status"], "reason": e["reason"],
                               "pair": e["pair"]})
    q = r["equity"]
    equity = pd.DataFrame({"ts": timestamps(q["ts"]), "cash": q["cash"], "equity": q["equity"],
                           "gross_pnl": q["gross_pnl"], "fees": q["fees"],
                           "net_pnl": q["net_pnl"]})
    c = r["controls"]
    pairs = pd.DataFrame({"ts": timestamps(c["ts"]), "pair": c["pair"], "action": c["action"],
                          "y": labels(c["y"], names), "x": labels(c["x"], names),
                          "hedge_ratio": c["hedge_ratio"], "pvalue": c["pvalue"],
                          "half_life": c["half_life"]})
    t = r["trades"]
    trades = pd.DataFrame({"pair": t["pair"], "legs": t["legs"], "open": timestamps(t["open"]),
                           "close": timestamps(t["close"]), "pnl": t["pnl"], "fees": t["fees"]})
    return BacktestResult(json.loads(r["summary"]), json.loads(r["metrics"]), trades, signals,
                          orders, executions, equity, pairs)


def read_ticks(path, max_rejects=0) -> pd.DataFrame:
    """A ticks CSV (ts,symbol,price,size[,bid,ask[,bid_size,ask_size]]) read by the engine's own
    reader: the same numbers and the same errors ("FILE:LINE: problem") as the CLI. Bad rows
    past max_rejects (0 = none, -1 = any) raise pairflow.Error; .attrs["rejected"] counts them.
    """
    r = _core.read_ticks(os.fspath(path), int(max_rejects))
    out = pd.DataFrame({"ts": timestamps(r["ts"]), "symbol": labels(r["symbol"], r["names"]),
                        "price": r["price"], "size": r["size"], "bid": r["bid"], "ask": r["ask"],
                        "bid_size": r["bid_size"], "ask_size": r["ask_size"]})
    if out["bid_size"].isna().all():
        out = out.drop(columns=["bid_size", "ask_size"])
    out.attrs.update(rejected=r["rejected"], first_reject=r["first_reject"])
    return out
