"""`pairflow features` against R's TTR on the same bars: EMA (seeded with the SMA of the first n
values), RSI and ATR (Wilder smoothing), SMA — values to 1e-9 and the same warm-up (NA)."""
import math
import subprocess

import pandas as pd

from conftest import PAIRFLOW

TTR_SCRIPT = r'''
suppressMessages(library(TTR))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
out <- NULL
for (s in unique(d$symbol)) {
  x <- d[d$symbol == s, ]
  out <- rbind(out, data.frame(symbol = s, ts = x$ts,
                               ema_10 = EMA(x$close, 10), rsi_14 = RSI(x$close, 14),
                               atr_14 = ATR(x[, c("high", "low", "close")], 14)[, "atr"],
                               sma_20 = SMA(x$close, 20), ema_30 = EMA(x$close, 30)))
}
write.csv(out, args[2], row.names = FALSE)
'''


def test_indicators_match_ttr(tmp_path):
    ticks, ours, theirs = tmp_path / "t.csv", tmp_path / "f.csv", tmp_path / "ttr.csv"
    for cmd in ([PAIRFLOW, "gen", "--out", str(ticks), "--symbols", "3", "--pairs", "0",
                 "--sessions", "1", "--seed", "3"],
                [PAIRFLOW, "features", "--ticks", str(ticks), "--bars", "1m", "--indicators",
                 "ema:10,rsi:14,atr:14,sma:20,ema:30", "--out", str(ours)]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    (tmp_path / "ttr.R").write_text(TTR_SCRIPT)
    r = subprocess.run(["Rscript", str(tmp_path / "ttr.R"), str(ours), str(theirs)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    merged = pd.read_csv(ours).merge(pd.read_csv(theirs), on=["symbol", "ts"],
                                     suffixes=("", "_ttr"))
    assert len(merged) == 3 * 390
    for column in ("ema_10", "rsi_14", "atr_14", "sma_20", "ema_30"):
        defined = 0
        for a, b in zip(merged[column], merged[column + "_ttr"]):
            assert math.isnan(a) == math.isnan(b), column  # same warm-up
            if not math.isnan(b):
                assert abs(a - b) <= 1e-9 * max(1.0, abs(b)), column
                defined += 1
        assert defined > 3 * 300, column
