"""The history store on the paths users run (`make bench`): `pairflow demo --no-ui` with and without
`--history FILE`, and a pipeline file (`pairflow run`) with and without the `history` job recording
ticks and bars. Prints medians of 3 runs, rows recorded per second of extra wall time, and the
ratio against the run that records nothing (in the same script, same machine)."""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def timed(cmd, cwd):
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def rows(pairflow, db):
    topics = json.loads(subprocess.run([pairflow, "history", "topics", "--db", db, "--json"],
                                       check=True, capture_output=True, text=True).stdout)
    return sum(t["rows"] for t in topics)


def compare(name, pairflow, base_cmd, record_cmd, db, cwd):
    base, rec = [], []
    for _ in range(3):
        base.append(timed(base_cmd, cwd))
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        rec.append(timed(record_cmd, cwd))
    b, r = statistics.median(base), statistics.median(rec)
    n = rows(pairflow, db)
    print(f"{name}: without {b:.2f} s, recording {r:.2f} s (x{r / b:.2f}); {n} rows, "
          f"{n / max(r - b, 1e-9):,.0f} rows/s of extra time, {n / r:,.0f} rows/s of the whole run")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairflow", default=os.path.join(ROOT, "build", "bin", "pairflow"))
    a = ap.parse_args()
    a.pairflow = os.path.abspath(a.pairflow)  # the runs happen in a scratch directory
    with tempfile.TemporaryDirectory() as d:
        db = os.path.join(d, "h.db")
        compare("demo --history (50 symbols, 3 sessions)", a.pairflow,
                [a.pairflow, "demo", "--no-ui"], [a.pairflow, "demo", "--no-ui", "--history", db],
                db, d)
        demo = os.path.join(ROOT, "examples", "demo.toml")
        pipeline = f'''
[source]
kind = "generator"
config = "{demo}"

[[job]]
name = "bars"
builtin = "bars"
in = "ticks"
out = "bars.1m"
'''
        recording = pipeline + f'''
[[job]]
name = "history"
builtin = "history"
in = ["ticks", "bars.1m"]
out = "history.out"
params = {{ db = "{db}" }}
'''
        with open(os.path.join(d, "base.toml"), "w") as f:
            f.write(pipeline)
        with open(os.path.join(d, "rec.toml"), "w") as f:
            f.write(recording)
        compare("pairflow run with the history job (ticks and bars.1m)", a.pairflow,
                [a.pairflow, "run", "base.toml"], [a.pairflow, "run", "rec.toml"], db, d)


if __name__ == "__main__":
    main()
