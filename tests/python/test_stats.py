"""pairflow.stats against statsmodels (live, on generated and edge-case data) and the committed
golden file, with the golden tests' tolerances: statistics 1e-8 relative, p-values 1e-6."""

import threading

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.stattools import adfuller as sm_adfuller
from statsmodels.tsa.stattools import coint as sm_coint
from statsmodels.tsa.vector_ar.vecm import coint_johansen as sm_johansen

import pairflow
from pairflow import stats

from conftest import cointegrated, random_walks


def close(a, b, tol=1e-8):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * 1e-3)


@pytest.mark.parametrize("trend", ["n", "c", "ct", "ctt"])
@pytest.mark.parametrize("autolag", ["AIC", "BIC", "t-stat", None])
def test_adfuller_equals_statsmodels(trend, autolag):
    x = random_walks(400, 1, seed=3)[:, 0] + np.sin(np.arange(400) / 7)
    ours = stats.adfuller(x, regression=trend, autolag=autolag)
    theirs = sm_adfuller(x, regression=trend, autolag=autolag)
    assert len(ours) == len(theirs)
    close(ours[0], theirs[0])
    assert abs(ours[1] - theirs[1]) <= 1e-6
    assert ours[2:4] == theirs[2:4]
    assert ours[4].keys() == theirs[4].keys()
    for k in theirs[4]:
        close(ours[4][k], theirs[4][k])
    if autolag is not None:
        close(ours[5], theirs[5])


def test_adf_is_adfuller_and_takes_maxlag():
    x = random_walks(300, 1, seed=5)[:, 0]
    assert stats.adf is stats.adfuller
    ours = stats.adf(x, maxlag=3, autolag=None)
    theirs = sm_adfuller(x, maxlag=3, autolag=None)
    close(ours[0], theirs[0])
    assert ours[2] == theirs[2] == 3


def test_adfuller_golden(golden):
    checked = 0
    for c in golden["adf"]:
        x = golden["series"][c["series"]]
        r = stats.adfuller(x, maxlag=c["maxlag"], regression=c["trend"], autolag=c["autolag"])
        label = f"{c['series']} {c['trend']} {c['autolag']} {c['maxlag']}"
        assert r[2] == c["usedlag"] and r[3] == c["nobs"], label
        assert abs(r[1] - c["pvalue"]) <= 1e-6, label
        exact = c.get("stat_exact", c["stat"])  # exact: from a rational first stage
        assert abs(r[0] - exact) <= 1e-8 * abs(exact), label
        for ours, theirs in zip(r[4].values(), c["crit"]):
            assert abs(ours - theirs) <= 1e-8 * abs(theirs), label
        checked += 1
    assert checked == len(golden["adf"]) > 100


@pytest.mark.parametrize("trend", ["c", "ct"])
def test_coint_equals_statsmodels(trend):
    y, x = cointegrated(500, seed=11)
    t, p, crit = stats.coint(y, x, trend=trend)
    st, sp, scrit = sm_coint(y, x, trend=trend)
    close(t, st)
    assert abs(p - sp) <= 1e-6
    close(crit, scrit)
    assert isinstance(crit, np.ndarray) and crit.shape == (3,)


def test_coint_golden(golden):
    collinear = 0
    for c in golden["coint"]:
        y, x = golden["series"][c["y"]], golden["series"][c["x"]]
        label = f"{c['y']} {c['x']} {c['trend']} {c['autolag']}"
        if c.get("collinear"):
            with pytest.raises(pairflow.Error, match="collinear"):
                stats.coint(y, x, trend=c["trend"], maxlag=c["maxlag"], autolag=c["autolag"])
            collinear += 1
            continue
        t, p, crit = stats.coint(y, x, trend=c["trend"], maxlag=c["maxlag"], autolag=c["autolag"])
        exact = c["stat_exact"]
        assert abs(t - exact) <= 1e-8 * abs(exact), label
        assert abs(p - c["pvalue"]) <= 1e-6, label
        for ours, theirs in zip(crit, c["crit"]):
            assert np.isnan(ours) if theirs is None else abs(ours - theirs) <= 1e-8 * abs(theirs)
    assert len(golden["coint"]) > 100 and collinear > 0


def test_coint_all_pairs_equals_a_statsmodels_loop():
    walks = random_walks(300, 5, seed=4)
    y, x = cointegrated(300, seed=9)
    data = pd.DataFrame(np.column_stack([walks, y, x]), columns=list("ABCDEYX"),
                        index=pd.date_range("2024-01-02", periods=300, freq="min", tz="UTC"))
    table = stats.coint_all_pairs(data)
    assert list(table.columns) == ["y", "x", "stat", "pvalue", "crit_1", "crit_5", "crit_10",
                                   "hedge_ratio", "intercept", "usedlag", "nobs", "error"]
    assert len(table) == 7 * 6 // 2
    for row in table.itertuples():
        st, sp, scrit = sm_coint(data[row.y], data[row.x])
        close(row.stat, st)
        assert abs(row.pvalue - sp) <= 1e-6
        close([row.crit_1, row.crit_5, row.crit_10], scrit)
        assert row.error is None
    best = table.sort_values("pvalue").iloc[0]
    assert (best.y, best.x) == ("Y", "X")
    assert abs(best.hedge_ratio - 1.5) < 0.05
    both = stats.coint_all_pairs(data, both_directions=True)
    assert len(both) == 42
    assert set(zip(both.y, both.x)) == {(a, b) for a in "ABCDEYX" for b in "ABCDEYX" if a != b}


def test_coint_all_pairs_counts_a_collinear_pair_and_goes_on():
    x = random_walks(200, 2, seed=8)
    data = pd.DataFrame({"a": x[:, 0], "b": 2 * x[:, 0] + 1, "c": x[:, 1]})
    table = stats.coint_all_pairs(data)
    bad = table[(table.y == "a") & (table.x == "b")].iloc[0]
    assert np.isnan(bad.stat) and "collinear" in bad.error
    assert table[(table.y == "a") & (table.x == "c")].error.iloc[0] is None


def test_coint_all_pairs_threads_give_the_same_result():
    data = random_walks(500, 24, seed=21)
    one = stats.coint_all_pairs(data, threads=1)
    many = stats.coint_all_pairs(data, threads=4)
    pd.testing.assert_frame_equal(one, many)


def test_coint_all_pairs_from_python_threads_in_parallel():
    """The GIL is released: four Python threads each screen their own table, all correct."""
    tables = [random_walks(400, 12, seed=s) for s in range(4)]
    expected = [stats.coint_all_pairs(t) for t in tables]
    results = [None] * 4
    errors = []

    def run(k):
        try:
            for _ in range(3):
                results[k] = stats.coint_all_pairs(tables[k])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k in range(4):
        pd.testing.assert_frame_equal(results[k], expected[k])


@pytest.mark.parametrize("det_order", [-1, 0, 1])
@pytest.mark.parametrize("k_ar_diff", [0, 1, 2])
def test_johansen_equals_statsmodels(det_order, k_ar_diff):
    y, x = cointegrated(400, seed=13)
    z = random_walks(400, 1, seed=14)[:, 0]
    endog = pd.DataFrame({"y": y, "x": x, "z": z})
    ours = stats.coint_johansen(endog, det_order, k_ar_diff)
    theirs = sm_johansen(endog, det_order, k_ar_diff)
    close(ours.eig, theirs.eig)
    close(ours.lr1, theirs.lr1)
    close(ours.lr2, theirs.lr2)
    np.testing.assert_array_equal(ours.cvt, theirs.cvt)
    np.testing.assert_array_equal(ours.cvm, theirs.cvm)
    assert ours.evec.shape == theirs.evec.shape == (3, 3)
    for j in range(3):  # column 0 carries statsmodels' sign; later columns up to sign
        sign = 1.0 if j == 0 else np.sign(ours.evec[:, j] @ theirs.evec[:, j])
        np.testing.assert_allclose(sign * ours.evec[:, j], theirs.evec[:, j],
                                   atol=1e-8 * np.abs(theirs.evec[:, j]).max())
    assert stats.johansen is stats.coint_johansen
    np.testing.assert_array_equal(ours.trace_stat, ours.lr1)
    np.testing.assert_array_equal(ours.max_eig_stat_crit_vals, ours.cvm)


def test_kalman_golden(golden):
    for c in golden["kalman"]:
        x, y = golden["series"][c["x"]], golden["series"][c["y"]]
        out = stats.kalman_hedge(x, y, delta=c["delta"], ve=c["ve"])
        assert len(out) == len(c["steps"])
        state = np.array([s["state"] for s in c["steps"]])
        cov = np.array([s["cov"] for s in c["steps"]])
        np.testing.assert_allclose(out["slope"], state[:, 0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(out["intercept"], state[:, 1], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(out[["p00", "p01", "p10", "p11"]], cov, rtol=1e-7, atol=1e-15)
        np.testing.assert_allclose(out["e"], [s["e"] for s in c["steps"]], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(out["q"], [s["q"] for s in c["steps"]], rtol=1e-9)


def test_kalman_keeps_a_series_index():
    y, x = cointegrated(100, seed=1)
    idx = pd.date_range("2024-01-02", periods=100, freq="min")
    out = stats.kalman_hedge(pd.Series(x, idx), pd.Series(y, idx))
    assert out.index.equals(idx)


def test_half_life_equals_the_ols_definition():
    y, x = cointegrated(2000, seed=3, half_life=15.0)
    spread = y - 1.5 * x
    ds, lag = np.diff(spread), spread[:-1]
    design = np.column_stack([np.ones_like(lag), lag])
    beta = np.linalg.lstsq(design, ds, rcond=None)[0][1]
    close(stats.half_life(spread), -np.log(2) / np.log(1 + beta))
    assert 10 < stats.half_life(spread) < 22
    with pytest.raises(pairflow.Error, match="half_life"):
        stats.half_life(np.cumsum(np.ones(100)) ** 1.5)  # trending: not mean reverting


def test_hurst_equals_its_definition_and_orders_series():
    rng = np.random.default_rng(5)
    walk = np.cumsum(rng.standard_normal(5000))
    r = stats.hurst(walk)
    # The variance method by hand: slope of log std(x[t+tau]-x[t]) on log tau, tau = 2..100.
    taus = np.arange(2, 101)
    sd = [np.std(walk[tau:] - walk[:-tau], ddof=0) for tau in taus]
    slope, intercept = np.polyfit(np.log(taus), np.log(sd), 1)
    assert r.num_scales == len(taus)
    np.testing.assert_allclose([r.hurst, r.intercept], [slope, intercept], rtol=1e-6)
    y, x = cointegrated(5000, seed=5)
    for method in ("variance", "rs", "dfa"):
        assert stats.hurst(y - 1.5 * x, method=method).hurst < stats.hurst(walk,
                                                                           method=method).hurst
    with pytest.raises(pairflow.Error, match="method"):
        stats.hurst(walk, method="wavelet")


# ---- bad input: a clear exception, never a crash or a silent result --------------------------


def test_nan_raises_a_clear_error():
    x = random_walks(200, 1, seed=1)[:, 0]
    x[17] = np.nan
    with pytest.raises(pairflow.Error) as e:
        stats.adfuller(x)
    assert "adfuller" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(pairflow.Error):
        stats.coint(x, random_walks(200, 1, seed=2)[:, 0])


def test_wrong_dtype_raises_type_error():
    with pytest.raises(TypeError, match="dtype"):
        stats.adfuller(np.array(["1", "2", "3"] * 30))
    with pytest.raises(TypeError, match="dtype"):
        stats.coint(np.ones(50, dtype=bool), np.arange(50.0))
    frame = pd.DataFrame({"a": np.arange(50.0), "b": ["x"] * 50})
    with pytest.raises(TypeError, match="'b'"):
        stats.coint_all_pairs(frame)


def test_integers_and_float32_are_converted():
    x = np.cumsum(np.random.default_rng(3).integers(-3, 4, 300))
    assert stats.adfuller(x)[0] == stats.adfuller(x.astype("float64"))[0]
    assert stats.adfuller(x.astype("float32"))[0] == stats.adfuller(
        x.astype("float32").astype("float64"))[0]


def test_too_few_rows_raises():
    with pytest.raises(pairflow.Error, match="adfuller"):
        stats.adfuller(np.array([1.0, 3.0, 2.0]))
    with pytest.raises(pairflow.Error, match="coint"):
        stats.coint(np.arange(4.0), np.array([1.0, 3.0, 2.0, 5.0]))
    with pytest.raises(pairflow.Error, match="two"):
        stats.coint_all_pairs(np.ones((50, 1)))


def test_non_monotonic_index_raises():
    x = pd.Series(random_walks(100, 1, seed=3)[:, 0],
                  index=pd.date_range("2024-01-02", periods=100, freq="min"))
    shuffled = x.iloc[np.r_[0:50, 60:100, 50:60]]
    with pytest.raises(pairflow.Error, match="not increasing.*sort_index"):
        stats.adfuller(shuffled)
    frame = pd.DataFrame({"a": shuffled, "b": shuffled * 2 + 1}).iloc[::-1]
    with pytest.raises(pairflow.Error, match="not increasing"):
        stats.coint_all_pairs(frame)


def test_length_mismatch_raises():
    with pytest.raises(pairflow.Error, match="coint"):
        stats.coint(np.arange(100.0), np.arange(90.0))
    with pytest.raises(pairflow.Error, match="kalman_hedge"):
        stats.kalman_hedge(np.arange(100.0), np.arange(90.0))


def test_unknown_options_raise():
    x = random_walks(100, 1, seed=1)[:, 0]
    with pytest.raises(pairflow.Error, match="trend"):
        stats.adfuller(x, regression="quadratic")
    with pytest.raises(pairflow.Error, match="autolag"):
        stats.adfuller(x, autolag="hqic")
    with pytest.raises(pairflow.Error, match="method"):
        stats.coint(x, x[::-1].copy(), method="johansen")


# ---- zero copy -----------------------------------------------------------------------------


def test_contiguous_float64_is_read_in_place():
    x = np.cumsum(np.random.default_rng(1).standard_normal(1000))
    assert pairflow._core._reads_in_place(x, 1)
    assert pairflow._core._reads_in_place(pd.Series(x), 1)
    assert not pairflow._core._reads_in_place(x[::2], 1)  # strided: copied
    assert not pairflow._core._reads_in_place(x.astype("float32"), 1)
    walks = random_walks(500, 8, seed=2)
    assert not pairflow._core._reads_in_place(walks, 2)  # C order: columns strided, copied
    assert pairflow._core._reads_in_place(np.asfortranarray(walks), 2)
    # A frame built column by column (read_csv, a dict of columns) is column-major: read in place.
    frame = pd.DataFrame({c: walks[:, k] for k, c in enumerate("abcdefgh")})
    assert pairflow._core._reads_in_place(frame, 2)


def test_a_large_array_does_not_double_memory():
    """coint on 2 x 200 MB: peak RSS grows by far less than one more copy of the input."""
    import subprocess
    import sys
    import textwrap

    # In a fresh interpreter, so other tests' peaks do not hide this one.
    code = textwrap.dedent("""
        import resource, numpy as np, pairflow
        n = 25_000_000
        x = np.cumsum(np.random.default_rng(1).standard_normal(n))
        y = 1.5 * x + np.random.default_rng(2).standard_normal(n)
        pairflow.stats.half_life(y - 1.5 * x)  # the peak now holds x, y and one more series
        s = y - 1.5 * x
        mid = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        pairflow.stats.half_life(s)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - mid) * 1024, n * 8)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    grown, size = map(int, out.stdout.split())
    assert grown < size // 2, f"half_life grew peak memory by {grown} bytes on a {size}-byte input"
