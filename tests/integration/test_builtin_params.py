"""Every parameter a built-in job reads is one it declares (src/jobs/builtin_jobs.cc), and the
reverse: a pipeline file's params are checked against the declared list, so a key read but not
declared is refused as unknown, and a key declared but not read is accepted and ignored. Both are
found here from the sources; then one pipeline proves the fixed case end to end."""
import os
import re
import subprocess

from conftest import PAIRFLOW, ROOT

JOBS = os.path.join(ROOT, "src", "jobs")
READ = re.compile(r'params\.(?:string|strings|integer|number|duration|boolean|topic|element)'
                  r'\("([a-z0-9_]+)"')


def declared():
    text = open(os.path.join(JOBS, "builtin_jobs.cc")).read()
    out = {}
    for name, keys in re.findall(r'\{"([a-z_]+)",\s*\{([^}]*)\}', text):
        out[name] = set(re.findall(r'"([a-z0-9_]+)"', keys))
    return out


def read_by(name):
    source = open(os.path.join(JOBS, f"{name}_job.cc")).read()
    keys = set(READ.findall(source))
    if "warmup_.configure(params" in source:  # HistoryWarmup reads its own keys
        keys |= set(READ.findall(open(os.path.join(JOBS, "warmup.h")).read()))
    return keys


def test_every_builtin_job_declares_exactly_what_it_reads():
    jobs = declared()
    assert {"bars", "features", "pair_actors", "execution", "ui", "history"} <= set(jobs)
    for name, keys in jobs.items():
        read = read_by(name)
        assert read - keys == set(), f"{name} reads undeclared params (refused as unknown)"
        assert keys - read == set(), f"{name} declares params it never reads"


def test_pair_actors_takes_the_kalman_hedge_in_a_pipeline_file(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text('''
[source]
kind = "generator"
set = ["market.symbols=8", "market.sessions=1", "market.planted_pairs=1"]

[[job]]
name = "pair_actors"
builtin = "pair_actors"
in = "ticks"
out = "pairs.signals"
params = { window = 60, hedge = "kalman", kalman_delta = 0.0001, kalman_ve = 0.001 }
''')
    r = subprocess.run([PAIRFLOW, "run", str(p)], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    # Ticks are not pair bars: every one is a dead letter, but the params were accepted.
    assert "unknown parameter" not in r.stderr, r.stderr
    assert r.returncode == 0, r.stderr
    p.write_text(p.read_text().replace('hedge = "kalman"', 'hedge = "lasso"'))
    r = subprocess.run([PAIRFLOW, "run", str(p)], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    assert r.returncode == 2 and "hedge" in r.stderr and "'ols' or 'kalman'" in r.stderr, r.stderr
