"""Tests of the Python module (`import pairflow`), against statsmodels, pandas and the CLI.

Run by ctest (pytest_python) with PYTHONPATH=build/python; PAIRFLOW_BUILD_DIR names the build.
"""

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PAIRFLOW_BUILD_DIR", ROOT / "build"))
BIN = BUILD / "bin" / "pairflow"


def cli(*args, check=True, cwd=None):
    """Runs the pairflow CLI; returns the CompletedProcess (stdout, stderr as text)."""
    r = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, cwd=cwd)
    if check and r.returncode != 0:
        raise AssertionError(f"pairflow {' '.join(map(str, args))} failed:\n{r.stderr}")
    return r


@pytest.fixture(scope="session")
def golden():
    with open(ROOT / "tests" / "golden" / "stats_golden.json") as f:
        doc = json.load(f)
    doc["series"] = {k: np.asarray(v, dtype="float64") for k, v in doc["series"].items()}
    return doc


def rel(a, b, tol, floor=0.0):
    """|a - b| <= tol * max(|b|, floor): the golden tests' relative tolerance."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.all(np.abs(a - b) <= tol * np.maximum(np.abs(b), floor) + 0.0) or np.allclose(
        a, b, rtol=tol, atol=tol * floor)


def random_walks(n_rows, n_cols, seed):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.standard_normal((n_rows, n_cols)), axis=0)


def cointegrated(n, seed, hedge=1.5, half_life=10.0):
    """y = 0.3 + hedge * x + OU spread: a planted pair."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal(n)) + 50
    phi = 0.5 ** (1 / half_life)
    s = np.zeros(n)
    for t in range(1, n):
        s[t] = phi * s[t - 1] + rng.standard_normal() * 0.5
    return 0.3 + hedge * x + s, x
