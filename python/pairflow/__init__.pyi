import os
from dataclasses import dataclass
from typing import Any, Iterable, Literal

import numpy as np
import pandas as pd

from pairflow import features as features
from pairflow import gen as gen
from pairflow import stats as stats

__version__: str

class Error(ValueError): ...

def screen(
    prices: pd.DataFrame | np.ndarray,
    *,
    log: bool = ...,
    window: int | None = ...,
    top: int = ...,
    correction: Literal["bh", "bonferroni", "none"] = ...,
    max_pvalue: float = ...,
    min_corr: float | None = ...,
    per_symbol: int = ...,
    neighbours: int | None = ...,
    rank_all: bool = ...,
    triangles: bool = ...,
    pair_test: Literal["both", "either"] = ...,
    prescreen_pvalue: float | None = ...,
    max_hurst: float | None = ...,
    min_half_life: float | None = ...,
    max_half_life: float | None = ...,
    min_crossings: int | None = ...,
    stability_splits: int | None = ...,
    stability_pvalue: float | None = ...,
    min_leg_margin: float | None = ...,
    trend: Literal["n", "c", "ct", "ctt"] | None = ...,
    maxlag: int | None = ...,
    autolag: str | None = ...,
    names: Iterable[str] | None = ...,
) -> pd.DataFrame: ...

class Screener:
    def __init__(self, symbols: Iterable[str], **options: Any) -> None: ...
    @property
    def symbols(self) -> list[str]: ...
    @property
    def bars(self) -> int: ...
    @property
    def window(self) -> int: ...
    def on_bar(self, log_prices: pd.Series | dict[str, float] | np.ndarray) -> None: ...
    def update(self, log_prices: pd.DataFrame | np.ndarray) -> None: ...
    def screen(self) -> pd.DataFrame: ...
    def correlation(self, a: str, b: str) -> float: ...
    def ready(self, symbol: str) -> bool: ...

@dataclass
class BacktestResult:
    summary: dict[str, Any]
    metrics: dict[str, Any]
    trades: pd.DataFrame
    signals: pd.DataFrame
    orders: pd.DataFrame
    executions: pd.DataFrame
    equity: pd.DataFrame
    pairs: pd.DataFrame

def backtest(
    ticks: pd.DataFrame | str | os.PathLike[str],
    config: dict[str, Any] | str | os.PathLike[str] | None = ...,
    *,
    overrides: dict[str, Any] | None = ...,
    log_dir: str | os.PathLike[str] | None = ...,
    max_rejects: int | None = ...,
) -> BacktestResult: ...
def read_ticks(path: str | os.PathLike[str], max_rejects: int = ...) -> pd.DataFrame: ...
def to_toml(config: dict[str, Any]) -> str: ...
