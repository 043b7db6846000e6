#!/usr/bin/python3
"""A family of generated bar universes for judging pair discovery, deliberately unlike the demo's
market generator (src/sim/market.cc): one-minute closes built bar by bar from a factor model with
fat-tailed (Student t) innovations, a shared volatility regime, heterogeneous idiosyncratic
volatility, microstructure noise on every price, some symbols with a stationary component of their
own (chance partners look cointegrated to them), occasional missing cells, and planted pairs
log y = a + h log x + s with s an AR(1) spread (half-life 5-60 bars, weak to strong, some
inverse, most inside x's sector so that x's sector mates are leg-sharing decoys).

    from universe import UniverseSpec, generate, family
    prices, truth = generate(spec)   # DataFrame of prices (ts + one column per symbol), truth

Everything is a pure function of the spec (numpy's PCG64 seeded by spec.seed).
"""
import dataclasses
import math

import numpy as np
import pandas as pd


@dataclasses.dataclass(frozen=True)
class UniverseSpec:
    name: str
    seed: int
    symbols: int
    bars: int
    planted: int                     # 0 = a null universe
    sectors: int = 8
    sector_strength: float = 1.0     # sector factor vol / median idiosyncratic vol
    market_strength: float = 0.7     # market factor vol / median idiosyncratic vol
    half_life: tuple = (5.0, 60.0)   # bars, uniform
    spread_strength: tuple = (0.5, 2.0)  # stationary spread std / (idio vol * sqrt(half-life))
    inverse_fraction: float = 0.3
    clone_fraction: float = 0.0      # planted pairs whose x gets a near-clone (a decoy)
    noise: tuple = (0.2, 1.0)        # microstructure noise std / idio vol, per symbol, uniform
    reverting_fraction: float = 0.05  # unrelated symbols with a stationary component of their own
    tail_df: float = 5.0             # Student t degrees of freedom of the innovations
    missing: float = 0.001           # share of cells left empty (forward-filled by the reader)


def _t(rng, df, size):
    """Unit-variance Student t draws."""
    return rng.standard_t(df, size=size) * math.sqrt((df - 2.0) / df)


def _ar1(rng, phi, sd, n, df):
    """Stationary AR(1) with unit-variance t innovations scaled to stationary std `sd`."""
    e = _t(rng, df, n) * sd * math.sqrt(1.0 - phi * phi)
    out = np.empty(n)
    out[0] = rng.normal() * sd
    for t in range(1, n):
        out[t] = phi * out[t - 1] + e[t]
    return out


def generate(spec, details=None):
    """(prices, truth); a dict passed as `details` also receives, by symbol name, the "sector" of
    every symbol, the "reverting" symbols (a stationary component of their own) and the "clones"
    (near-clone -> the planted leg it copies): what the size of a test is judged by."""
    rng = np.random.Generator(np.random.PCG64(spec.seed))
    n, T = spec.symbols, spec.bars
    idio = 0.0008 * np.exp(rng.normal(0.0, 0.35, n))          # per-bar idiosyncratic vol
    base = float(np.median(idio))
    sector = rng.integers(0, spec.sectors, n)
    # A shared volatility regime: log-vol AR(1), mean one.
    logv = _ar1(rng, 0.995, 0.3, T, 30.0)
    vol = np.exp(logv - 0.5 * 0.09)
    mkt = _t(rng, spec.tail_df, T) * base * spec.market_strength * vol
    sec = _t(rng, spec.tail_df, (T, spec.sectors)) * base * spec.sector_strength * vol[:, None]
    beta_m = rng.uniform(0.5, 1.5, n)
    beta_s = rng.uniform(0.6, 1.4, n)
    eps = _t(rng, spec.tail_df, (T, n)) * idio[None, :] * vol[:, None]
    rets = mkt[:, None] * beta_m[None, :] + sec[:, sector] * beta_s[None, :] + eps
    logp = np.log(rng.uniform(10.0, 300.0, n))[None, :] + np.cumsum(rets, axis=0)

    # Planted pairs: y is rebuilt from x; no symbol is in two planted pairs. With probability
    # clone_fraction another unused symbol becomes a near-clone of x (x plus a slow random walk of
    # its own): a strong leg-sharing decoy, as two share classes or an ETF and its largest member.
    avail = [int(s) for s in rng.permutation(n)]
    clones, reverting = {}, []
    planted = []
    used = set()
    for _ in range(spec.planted):
        x = avail.pop(0)
        y = avail.pop(int(rng.integers(0, len(avail))))
        used.update((x, y))
        hl = rng.uniform(*spec.half_life)
        phi = 0.5 ** (1.0 / hl)
        sd = idio[x] * math.sqrt(hl) * rng.uniform(*spec.spread_strength)
        h = rng.uniform(0.5, 1.5) * (-1.0 if rng.uniform() < spec.inverse_fraction else 1.0)
        a = math.log(rng.uniform(10.0, 300.0)) - h * logp[0, x]
        s = _ar1(rng, phi, sd, T, spec.tail_df) * vol
        logp[:, y] = a + h * logp[:, x] + s
        planted.append({"y": y, "x": x, "hedge_ratio": h, "half_life": hl, "spread_std": sd})
        if rng.uniform() < spec.clone_fraction and avail:
            c = avail.pop(int(rng.integers(0, len(avail))))
            used.add(c)
            clones[c] = x
            drift = np.cumsum(_t(rng, spec.tail_df, T) * idio[c] * 0.35 * vol)
            logp[:, c] = logp[:, x] + math.log(rng.uniform(0.5, 2.0)) + drift

    # Unrelated symbols with a stationary component of their own.
    free = [s for s in range(n) if s not in used]
    for s in free:
        if rng.uniform() < spec.reverting_fraction:
            hl = rng.uniform(3.0, 30.0)
            logp[:, s] += _ar1(rng, 0.5 ** (1.0 / hl), idio[s] * math.sqrt(hl) * 1.5, T, 8.0)
            reverting.append(s)

    noise = idio * rng.uniform(*spec.noise, n)
    logp = logp + rng.normal(size=(T, n)) * noise[None, :]
    prices = np.round(np.exp(logp), 4)
    if spec.missing > 0:
        holes = rng.uniform(size=prices.shape) < spec.missing
        holes[0, :] = False
        prices[holes] = np.nan
    names = [f"U{s:03d}" for s in range(n)]
    ts = pd.date_range("2025-03-03T14:30:00Z", periods=T, freq="min")
    frame = pd.DataFrame(prices, columns=names)
    frame.insert(0, "ts", ts.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    truth = [{"y": names[p["y"]], "x": names[p["x"]], "hedge_ratio": p["hedge_ratio"],
              "half_life": p["half_life"], "spread_std": p["spread_std"]} for p in planted]
    if details is not None:
        details["sector"] = {names[s]: int(sector[s]) for s in range(n)}
        details["reverting"] = [names[s] for s in reverting]
        details["clones"] = {names[c]: names[x] for c, x in clones.items()}
    return frame, truth


def family(size):
    """The fixed universes of one harness size: 'smoke' (make test), 'bench' (make bench)."""
    if size == "smoke":
        return [
            UniverseSpec("smoke-clones", 101, 80, 1000, 8, sectors=5, half_life=(5.0, 30.0),
                         clone_fraction=0.5),
            UniverseSpec("smoke-reverting", 102, 80, 1000, 8, sectors=5, half_life=(5.0, 30.0),
                         reverting_fraction=0.15),
            UniverseSpec("smoke-null", 103, 80, 1000, 0, sectors=5, sector_strength=2.0,
                         reverting_fraction=0.1),
        ]
    if size != "bench":
        raise ValueError(f"unknown family size '{size}'")
    return [
        UniverseSpec("u50-weak-sectors", 201, 50, 500, 4, sectors=4, sector_strength=0.3),
        UniverseSpec("u80-strong-sectors", 202, 80, 800, 6, sectors=6, sector_strength=2.5,
                     clone_fraction=0.5),
        UniverseSpec("u120-eight-sectors", 203, 120, 1500, 10, sectors=8),
        UniverseSpec("u120-slow-spreads", 204, 120, 1000, 8, half_life=(30.0, 60.0)),
        UniverseSpec("u150-fast-weak", 205, 150, 1000, 10, half_life=(5.0, 15.0),
                     spread_strength=(0.3, 0.8)),
        UniverseSpec("u200-inverse", 206, 200, 1200, 12, inverse_fraction=0.6,
                     clone_fraction=0.3),
        UniverseSpec("u200-reverting-stocks", 207, 200, 800, 8, reverting_fraction=0.15),
        UniverseSpec("u300-long", 208, 300, 2000, 15, sectors=12, sector_strength=1.5),
        UniverseSpec("u100-heavy-tails", 209, 100, 1000, 6, tail_df=3.5, noise=(0.5, 1.5)),
        UniverseSpec("u60-short", 210, 60, 500, 5, half_life=(5.0, 30.0)),
        UniverseSpec("null-u100", 301, 100, 1000, 0),
        UniverseSpec("null-u150-correlated", 302, 150, 1000, 0, sector_strength=3.0,
                     market_strength=2.0),
        UniverseSpec("null-u200-reverting", 303, 200, 800, 0, reverting_fraction=0.15),
        UniverseSpec("null-u60-clones", 304, 60, 1500, 0, sectors=3, sector_strength=5.0),
    ]
