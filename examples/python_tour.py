#!/usr/bin/python3
"""The tour of docs/python.md, runnable: PYTHONPATH=build/python /usr/bin/python3
examples/python_tour.py (tests/python/test_tour.py runs it)."""

import numpy as np
import pandas as pd

import pairflow

pd.set_option("display.width", 100)
pd.set_option("display.max_columns", 10)

# 1. A generated market: 40 symbols in 5 sectors, 4 planted pairs, 2 sessions of 1-minute mids.
market = pairflow.gen.bars("1m", seed=7, symbols=40, pairs=4, sessions=2)
print(market.prices.iloc[:3, :5])
print(market.truth[["y", "x", "hedge_ratio", "half_life_s"]])

# 2. statsmodels' functions, same names and shapes.
logs = np.log(market.prices)
y, x = market.truth.y[0], market.truth.x[0]
stat, pvalue, crit = pairflow.stats.coint(logs[y], logs[x])
print(f"coint({y}, {x}): stat {stat:.4f}  p {pvalue:.3g}  crit {np.round(crit, 4)}")
h = market.truth.hedge_ratio[0]  # the planted hedge ratio
adf, p, usedlag, nobs, crit, icbest = pairflow.stats.adfuller(logs[y] - h * logs[x])
print(f"adfuller: {adf:.4f} p={p:.3g} lags={usedlag} nobs={nobs}")

# 3. Every pair at once, ranked by p-value.
table = pairflow.stats.coint_all_pairs(logs)
print(table.sort_values("pvalue").head(5)[["y", "x", "stat", "pvalue", "hedge_ratio"]])

# 4. The screen that trades: family, pair test, false-discovery control, spread filters.
pairs = pairflow.screen(market.prices, log=True)
print(pairs[["y", "x", "pair_pvalue", "adj_pvalue", "half_life", "hurst"]])
print(pairs.attrs["summary"])

# 5. Ticks -> bars and indicators, as `pairflow features` computes them.
ticks = pairflow.gen.ticks(seed=7, symbols=40, pairs=4, sessions=2).ticks
bars = pairflow.features.bars(ticks, bars="1m", indicators="logret,ema:10,zscore:30")
print(bars[bars.symbol == y].iloc[40:43, [0, 1, 5, 9, 10, 11]])

# 6. A whole backtest: the CLI's decisions, as DataFrames.
result = pairflow.backtest(ticks, {"discovery": {"top_k": 3}})
print(result)
print(result.trades.head(3))
print({k: round(result.metrics[k], 4) for k in ("total_return", "sharpe", "max_drawdown")})
print(pairflow.to_toml({"discovery": {"top_k": 3}}), end="")
