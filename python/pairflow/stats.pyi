from typing import Any, Literal, NamedTuple, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

_Series = npt.ArrayLike | pd.Series
_Table = npt.ArrayLike | pd.DataFrame
_Trend = Literal["n", "c", "ct", "ctt"]

def adfuller(
    x: _Series,
    maxlag: int | None = ...,
    regression: _Trend = ...,
    autolag: str | None = ...,
    store: bool = ...,
    regresults: bool = ...,
) -> tuple[float, float, int, int, dict[str, float], float] | tuple[float, float, int, int, dict[str, float]]: ...

adf = adfuller

def coint(
    y0: _Series,
    y1: _Series,
    trend: _Trend = ...,
    method: str = ...,
    maxlag: int | None = ...,
    autolag: str | None = ...,
    return_results: bool | None = ...,
) -> tuple[float, float, np.ndarray]: ...
def coint_all_pairs(
    data: _Table,
    trend: _Trend = ...,
    maxlag: int | None = ...,
    autolag: str | None = ...,
    both_directions: bool = ...,
    threads: int = ...,
    names: Sequence[str] | None = ...,
) -> pd.DataFrame: ...

class JohansenTestResult:
    eig: np.ndarray
    evec: np.ndarray
    lr1: np.ndarray
    lr2: np.ndarray
    cvt: np.ndarray
    cvm: np.ndarray
    nobs: int
    meth: str
    def __init__(self, r: dict[str, Any]) -> None: ...
    @property
    def trace_stat(self) -> np.ndarray: ...
    @property
    def max_eig_stat(self) -> np.ndarray: ...
    @property
    def trace_stat_crit_vals(self) -> np.ndarray: ...
    @property
    def max_eig_stat_crit_vals(self) -> np.ndarray: ...

def coint_johansen(endog: _Table, det_order: int, k_ar_diff: int) -> JohansenTestResult: ...

johansen = coint_johansen

class HurstResult(NamedTuple):
    hurst: float
    intercept: float
    r2: float
    num_scales: int

def hurst(
    x: _Series,
    method: Literal["variance", "rs", "dfa"] = ...,
    min_scale: int = ...,
    max_scale: int = ...,
    num_scales: int = ...,
) -> HurstResult: ...
def half_life(spread: _Series) -> float: ...
def kalman_hedge(
    x: _Series,
    y: _Series,
    delta: float = ...,
    ve: float = ...,
    initial_state: tuple[float, float] = ...,
    initial_cov: tuple[float, float, float, float] = ...,
) -> pd.DataFrame: ...
