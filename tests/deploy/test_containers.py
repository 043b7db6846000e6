"""The container image and the distributed pipeline in containers (deploy/compose.yaml).

Needs a Docker engine: one that answers, or Debian's dockerd started here (as root; stopped
afterwards). Without one every test is skipped with the reason. The image is built with
`scripts/image --prebuilt` around this build's binaries (the full multi-stage build, `make
image`, compiles everything again: too long for `make test`); the runtime stage is the same.
"""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PAIRFLOW_BUILD_DIR", ROOT / "build"))
PAIRFLOW = BUILD / "bin" / "pairflow"
DOCKER = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"
IMAGE = "pairflow:test"
TOOLS = "pairflow-tools:test"
PROJECT = "pftest"


def docker(*args, check=True, timeout=600, **kw):
    r = subprocess.run([DOCKER, *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"docker {' '.join(map(str, args))}: {r.stderr.strip()}")
    return r


def engine_answers():
    return subprocess.run([DOCKER, "info"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    started = None
    if not engine_answers():
        if not shutil.which("dockerd"):
            pytest.skip("no Docker engine answers and dockerd is not installed")
        if os.geteuid() != 0:
            pytest.skip("no Docker engine answers and starting dockerd needs root")
        log = open(tmp_path_factory.mktemp("dockerd") / "dockerd.log", "w")
        started = subprocess.Popen(["dockerd"], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while not engine_answers():
            if started.poll() is not None or time.time() > deadline:
                started.kill()
                pytest.skip(f"dockerd did not start (log: {log.name})")
            time.sleep(0.5)
    yield
    if started:
        started.terminate()
        started.wait(timeout=60)


@pytest.fixture(scope="module")
def image(engine):
    r = subprocess.run([str(ROOT / "scripts" / "image"), "--prebuilt", str(BUILD), "--tag",
                        IMAGE], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    print(r.stdout.strip().splitlines()[-1])  # "image: pairflow:test built in N s, SIZE"
    # kcat beside the image, to read the topics from inside the broker's network namespace.
    tools = r"""FROM pairflow:test
USER root
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends kcat >/dev/null && \
    rm -rf /var/lib/apt/lists/*
"""
    docker("build", "-t", TOOLS, "-", input=tools, env=dict(os.environ, DOCKER_BUILDKIT="1"))
    return IMAGE


def test_image_runs_as_non_root_without_compilers(image):
    assert docker("run", "--rm", "--entrypoint", "id", image, "-u").stdout.strip() == "10001"
    assert docker("run", "--rm", image, "--version").stdout.strip() == "pairflow 0.1.0"
    found = docker("run", "--rm", "--entrypoint", "sh", image, "-c",
                   "command -v gcc g++ cc c++ clang make cmake || true").stdout.split()
    assert found == []
    missing = docker("run", "--rm", "--entrypoint", "sh", image, "-c",
                     "ldd /opt/pairflow/bin/pairflow /opt/pairflow/python/pairflow/_core*.so"
                     " | grep 'not found' || true").stdout
    assert missing == ""
    size = int(docker("image", "inspect", "-f", "{{.Size}}", image).stdout)
    print(f"image size: {size / 2**20:.0f} MiB")


def test_demo_and_python_with_a_read_only_root(image):
    r = docker("run", "--rm", "--read-only", "--tmpfs", "/tmp", image, "demo", "--no-ui",
               "--set", "market.sessions=2", "--set", "market.symbols=20")
    assert "net P&L" in r.stdout
    r = docker("run", "--rm", "--read-only", "--tmpfs", "/tmp", "--entrypoint", "python3", image,
               "-c", "import pairflow, numpy as np; x = np.cumsum(np.ones(200)); "
               "print(pairflow.__version__, pairflow.stats.half_life(np.sin(np.arange(200.0))))")
    assert r.stdout.startswith("0.1.0 ")


def test_compose_topics_match_topics_txt():
    compose = (ROOT / "deploy" / "compose.yaml").read_text()
    listed = ",".join(line for line in (ROOT / "deploy" / "topics.txt").read_text().splitlines()
                      if line and not line.startswith("#"))
    assert f'"{listed}"' in compose


# ---- the distributed pipeline ------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Compose:
    def __init__(self, ui_port):
        self.env = dict(os.environ, PAIRFLOW_IMAGE=IMAGE, PAIRFLOW_BROKER="kafka-mock",
                        PAIRFLOW_UI_PORT=str(ui_port))

    def __call__(self, *args, check=True, timeout=600):
        cmd = ["docker-compose", "-p", PROJECT, "-f", str(ROOT / "deploy" / "compose.yaml"),
               "--profile", "mock", "--profile", "feed", *args]
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(args)}: {r.stdout[-2000:]}{r.stderr[-2000:]}")
        return r

    @staticmethod
    def container(service):
        return f"{PROJECT}_{service}_1"

    def health(self, service):
        r = docker("inspect", "-f", "{{.State.Health.Status}}", self.container(service),
                   check=False)
        return r.stdout.strip()

    def wait_healthy(self, services, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            states = {s: self.health(s) for s in services}
            if all(v == "healthy" for v in states.values()):
                return
            time.sleep(1)
        logs = {s: self("logs", "--tail", "5", s, check=False).stdout for s in services}
        raise AssertionError(f"not healthy after {timeout}s: {states}\n{logs}")

    def metric(self, service, port, name):
        r = docker("exec", self.container(service), "pairflow", "probe",
                   f"http://127.0.0.1:{port}/metrics", check=False)
        for line in r.stdout.splitlines():
            if line.startswith(f"pairflow_job_{name}"):
                return float(line.rsplit(" ", 1)[1])
        return -1.0

    def topic(self, name):
        r = docker("run", "--rm", "--network", f"container:{self.container('kafka-mock')}",
                   "--entrypoint", "kcat", TOOLS, "-b", "127.0.0.1:9092", "-C", "-t", name, "-e", "-q", "-f", "%s\n")
        return [line for line in r.stdout.splitlines() if line]


@pytest.fixture
def compose(image):
    c = Compose(free_port())
    c("down", "-v", "--remove-orphans", check=False)
    yield c
    c("logs", "--tail", "20", check=False)
    c("down", "-v", "--remove-orphans", check=False, timeout=300)


def test_distributed_equals_embedded_and_survives_killed_containers(compose, tmp_path):
    # The embedded run of the same pipeline file on the same generated market (UI on any port).
    pipeline = tmp_path / "pipeline.toml"
    pipeline.write_text((ROOT / "deploy" / "pipeline.toml").read_text().replace(
        "port = 8080", "port = 0"))
    r = subprocess.run([str(PAIRFLOW), "run", str(pipeline), "--exit-at-end", "--out-dir",
                        str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr

    def lines(name):
        return (tmp_path / "out" / f"{name}.jsonl").read_text().splitlines()

    # The market is recorded on `ticks` first, then the jobs start: a replay. (Fed live in one
    # burst instead, the trader's and execution's event-time merge of the four partitions would
    # count as out of order whatever a starved consumer fetched later than --max-idle: on this
    # 2-core machine that is a matter of seconds.)
    started = time.time()
    compose("up", "-d", "kafka-mock")
    compose.wait_healthy(["kafka-mock"])
    compose("run", "--rm", "source", timeout=600)
    jobs = ["bars-1", "bars-2", "trader", "execution", "ui"]
    compose("up", "-d", *jobs)
    compose.wait_healthy(jobs)
    up_s = time.time() - started
    # Faults, mid-run: SIGKILL the trader and restart it; SIGKILL one of the two bars instances
    # and leave it down, so its partitions move to the other.
    deadline = time.time() + 300
    while compose.metric("trader", 8083, "processed_total") < 60000:
        assert time.time() < deadline, "the trader did not get going"
        time.sleep(0.5)
    docker("kill", compose.container("trader"))
    docker("kill", compose.container("bars-2"))
    docker("update", "--restart", "no", compose.container("bars-2"))
    time.sleep(1)
    docker("start", compose.container("trader"))
    # Done when the fills and the P&L have all arrived (the embedded run's, less the last bar's
    # P&L, which a live topic keeps open) and nothing changed for a while.
    want_exec, want_pnl = len(lines("executions")), len(lines("pnl")) - 1
    deadline = time.time() + 600
    while True:
        got_exec, got_pnl = len(compose.topic("executions")), len(compose.topic("pnl"))
        if got_exec >= want_exec and got_pnl >= want_pnl:
            break
        assert time.time() < deadline, f"executions {got_exec}/{want_exec}, pnl {got_pnl}/{want_pnl}"
        time.sleep(2)
    time.sleep(5)
    run_s = time.time() - started
    executions = compose.topic("executions")
    assert len(executions) == len(set(executions)), "an order was filled twice"
    assert sorted(executions) == sorted(lines("executions"))
    assert compose.topic("pnl") == lines("pnl")[:-1]
    assert sorted(compose.topic("positions")) == sorted(lines("positions"))
    bars = compose.topic("bars.1m")
    embedded_bars = set(lines("bars.1m"))
    print(f"bars: {len(bars)} published, {len(set(bars) & embedded_bars)} of "
          f"{len(embedded_bars)} embedded bars among them, {len(set(bars) - embedded_bars)} others")
    # Every bar once, as the embedded run made it, though bars-2's partitions moved to bars-1;
    # only the last interval's bars are missing: on a live topic that interval is still open.
    assert len(bars) == len(set(bars)) and set(bars) <= embedded_bars
    last = max(json.loads(b)["ts"] for b in embedded_bars)
    assert all(json.loads(b)["ts"] == last for b in embedded_bars - set(bars))
    assert compose.topic("dlq.trader") == [] and compose.topic("dlq.execution") == []
    assert compose.health("trader") == "healthy" or compose.health("trader") == "starting"
    print(f"compose: up and healthy in {up_s:.1f} s; pipeline done {run_s:.1f} s after start "
          f"({len(executions)} executions, {len(bars)} bars)")
