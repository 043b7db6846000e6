"""pairflow as a Python research library: the C++ engine that trades, on numpy and pandas.

    >>> import pairflow
    >>> market = pairflow.gen.bars(seed=7, symbols=20, pairs=3, sessions=2)
    >>> ranked = pairflow.screen(market.prices, log=True)
    >>> result = pairflow.backtest(pairflow.gen.ticks(seed=7).ticks)

Modules and functions:
    pairflow.stats     adfuller (adf), coint, coint_all_pairs, coint_johansen (johansen),
                       hurst, half_life, kalman_hedge: statsmodels' names, defaults and shapes
    pairflow.screen    the all-pairs screen of a price table (`pairflow screen`)
    pairflow.Screener  the streaming screener, bar by bar
    pairflow.features  bars and indicators of ticks (`pairflow features`)
    pairflow.gen       generated markets with their ground truth (`pairflow gen`)
    pairflow.backtest  a whole backtest (`pairflow backtest`): summary, trades, orders, ...
    pairflow.read_ticks  a ticks CSV read by the engine's own reader
    pairflow.to_toml   a config dict as a pipeline TOML file's text

Errors raise pairflow.Error (a ValueError) with the CLI's one-line message; wrong types raise
TypeError. Computations release the GIL, so threads run in parallel.
"""

from ._core import Error
from . import stats, features, gen
from ._screen import screen, Screener
from ._backtest import backtest, BacktestResult, read_ticks
from ._config import to_toml

__version__ = "0.1.0"

__all__ = [
    "Error",
    "stats",
    "features",
    "gen",
    "screen",
    "Screener",
    "backtest",
    "BacktestResult",
    "read_ticks",
    "to_toml",
    "__version__",
]
