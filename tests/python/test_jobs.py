"""Research code moves into a job unchanged: inside a Python job, `pairflow.stats`, `.screen`, ...
are the research module's."""

import json
import subprocess

import numpy as np

import pairflow

from conftest import BIN, cointegrated

JOB = '''
import numpy as np
import pairflow

def setup(ctx):
    pairflow.state["y"], pairflow.state["x"] = [], []

def process(msg):
    pairflow.state["y"].append(msg["y"])
    pairflow.state["x"].append(msg["x"])
    if len(pairflow.state["y"]) == 300:
        t, p, crit = pairflow.stats.coint(np.array(pairflow.state["y"]),
                                           np.array(pairflow.state["x"]))
        return {"stat": t, "pvalue": p}
'''


def test_a_job_uses_the_research_api(tmp_path):
    job = tmp_path / "coint_job.py"
    job.write_text(JOB)
    y, x = cointegrated(300, seed=4)
    lines = "".join(json.dumps({"y": a, "x": b}) + "\n" for a, b in zip(y, x))
    r = subprocess.run([str(BIN), "job", "run", str(job), "--in", "-", "--out", "-"],
                       input=lines, capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(out) == 1
    t, p, _ = pairflow.stats.coint(np.asarray(y), np.asarray(x))
    assert out[0]["stat"] == t and out[0]["pvalue"] == p
