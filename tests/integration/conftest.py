"""Fixtures for the job-runtime tests: a private mock Kafka cluster per test, kcat as the
independent client, and helpers to run `pairflow job run`."""
import json
import os
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PAIRFLOW_BUILD_DIR", os.path.join(ROOT, "build"))
PAIRFLOW = os.path.join(BUILD, "bin", "pairflow")
LIB = os.path.join(BUILD, "lib")


# Under the sanitizer build (PAIRFLOW_SANITIZED=1, set by CMake) the tests marked `heavy` - a
# whole trading pipeline run again to the same end (the 6 more crash points of the kill -9 test,
# the long warm-up and replay runs) - are skipped, with the reason: the release build runs every
# one, and their C++ paths run under the sanitizers in the other tests and the unit tests. This
# keeps the CI run inside its time budget.
SANITIZED = os.environ.get("PAIRFLOW_SANITIZED") == "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "heavy: a whole-pipeline rerun, skipped under sanitizers")


def pytest_collection_modifyitems(config, items):
    if not SANITIZED:
        return
    skip = pytest.mark.skip(reason="heavy: run by the release build, not under the sanitizers")
    for item in items:
        if "heavy" in item.keywords:
            item.add_marker(skip)


def free_port():
    """A TCP port on loopback that nothing listens on (for servers a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, bootstrap, workdir):
        self.bootstrap = bootstrap
        self.workdir = workdir

    def produce(self, topic, records):
        """records: (key, value) pairs, written by kcat."""
        lines = "".join(f"{k}\t{v}\n" for k, v in records)
        subprocess.run(["kcat", "-b", self.bootstrap, "-P", "-t", topic, "-K", "\t"],
                       input=lines, text=True, check=True, timeout=60)

    def consume(self, topic):
        """Everything in the topic as (key, value) pairs, read by kcat to the end."""
        out = subprocess.run(["kcat", "-b", self.bootstrap, "-C", "-t", topic, "-e", "-q",
                              "-f", "%k\t%s\n"], capture_output=True, text=True, check=True,
                             timeout=60).stdout
        return [tuple(line.split("\t", 1)) for line in out.splitlines() if line]

    def job(self, job_file, *args, env=None):
        """Starts `pairflow job run` in the test's directory (its .pairflow/ checkpoints)."""
        cmd = [PAIRFLOW, "job", "run", job_file, "--brokers", self.bootstrap, *args]
        return subprocess.Popen(cmd, cwd=self.workdir, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)

    def wait_for(self, topic, count, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = len(self.consume(topic))
            if got >= count:
                return got
            time.sleep(0.2)
        raise AssertionError(f"{topic}: fewer than {count} messages after {timeout}s")


@pytest.fixture
def make_cluster(tmp_path):
    procs = []

    def start(topics):
        proc = subprocess.Popen([PAIRFLOW, "kafka-mock", "--topics", topics],
                                stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        bootstrap = proc.stdout.readline().strip()
        assert bootstrap, "kafka-mock printed no bootstrap address"
        return Cluster(bootstrap, str(tmp_path))

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def finish(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}: {err}"
    return out, err


def metrics_of(err):
    """The final metrics line `job NAME: {...}` on stderr."""
    for line in err.splitlines():
        if line.startswith("job ") and ": {" in line:
            return json.loads(line.split(": ", 1)[1])
    raise AssertionError(f"no metrics line in: {err}")


def pair_bar_messages(wide, entry_z=2.0, exit_z=0.5, stop_z=4.0):
    """A `pairflow gen --format bars` file as Kafka messages: (activations of its planted pairs on
    pairs.control, keyed by pair id; its bars, time-ordered, keyed by symbol)."""
    truth = json.loads(open(f"{wide}.truth.json").read())
    lines = open(wide).read().splitlines()
    symbols = lines[0].split(",")[1:]
    t0 = int(subprocess.run(["date", "-u", "-d", lines[1].split(",")[0], "+%s"],
                            capture_output=True, text=True).stdout) * 1_000_000_000
    controls = [(str(i), json.dumps({"ts": t0, "pair": i, "action": "activate", "y": p["y"],
                                     "x": p["x"], "entry_z": entry_z, "exit_z": exit_z,
                                     "stop_z": stop_z, "max_hold_bars": 0}))
                for i, p in enumerate(truth["planted"])]
    bars = []
    for k, row in enumerate(lines[1:]):
        for sym, close in zip(symbols, row.split(",")[1:]):
            bars.append((sym, json.dumps({"ts": t0 + k * 60_000_000_000, "symbol": sym,
                                          "close": float(close)})))
    return controls, bars


ROUTER_JOB = '''
[[job]]
name = "router"
builtin = "pair_router"
in = ["pairs.control", "bars.1m"]
out = "pairs.bars"
'''

