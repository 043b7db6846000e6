"""docs/python.md's tour runs as written (examples/python_tour.py)."""

import os
import subprocess
import sys

from conftest import ROOT


def test_the_tour_runs():
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "python_tour.py")],
                       capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert "pairs selected of" in r.stdout and "BacktestResult(" in r.stdout
