"""Health and shutdown of a job, as container orchestrators use them: /healthz, /readyz and
/metrics on --health-port, `pairflow probe`, SIGTERM drains (checkpoint, exit 0) and a restart
resumes without duplicates; kafka-mock's fixed --port bootstrap."""

import json
import signal
import subprocess
import time

from conftest import PAIRFLOW, ROOT, finish, free_port, metrics_of  # noqa: F401

PASSTHROUGH = f"{ROOT}/examples/jobs/passthrough.py"


def probe(port, path):
    r = subprocess.run([PAIRFLOW, "probe", f"http://127.0.0.1:{port}{path}"],
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout


def wait_ready(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        rc, out = probe(port, "/readyz")
        if rc == 0:
            return json.loads(out.split(" ", 1)[1])
        time.sleep(0.2)
    raise AssertionError(f"not ready after {timeout}s: {out}")


def metric(port, name):
    rc, out = probe(port, "/metrics")
    assert rc == 0
    for line in out.splitlines():
        if line.startswith(f"pairflow_job_{name}"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} in {out}")


def test_probes_sigterm_drain_and_restart(make_cluster):
    cluster = make_cluster("ticks:2,ticks.tagged,dlq.passthrough")
    port = free_port()
    job = cluster.job(PASSTHROUGH, "--in", "ticks", "--out", "ticks.tagged", "--health-port",
                      str(port), "--checkpoint-interval", "60")
    ready = wait_ready(port)
    assert ready == {"job": "passthrough", "ready": True, "started": True, "assigned": True,
                     "stopping": False}
    rc, out = probe(port, "/healthz")
    assert rc == 0 and json.loads(out.split(" ", 1)[1])["alive"] is True
    cluster.produce("ticks", [(f"k{i % 5}", json.dumps({"i": i})) for i in range(200)])
    deadline = time.time() + 30
    while metric(port, "processed_total") < 200 and time.time() < deadline:
        time.sleep(0.2)
    assert metric(port, "processed_total") == 200
    assert metric(port, "ready") == 1
    # SIGTERM with the checkpoint interval far away: the drain itself checkpoints, exit 0.
    job.send_signal(signal.SIGTERM)
    out, err = finish(job, timeout=30)
    assert metrics_of(err)["processed"] == 200
    assert probe(port, "/readyz")[0] == 1  # the server is gone with the process
    # A restart resumes after the drained position: nothing is processed twice.
    job = cluster.job(PASSTHROUGH, "--in", "ticks", "--out", "ticks.tagged", "--health-port",
                      str(port), "--idle-exit", "3")
    wait_ready(port)
    cluster.produce("ticks", [("k", json.dumps({"i": 200}))])
    out, err = finish(job, timeout=60)
    m = metrics_of(err)
    assert m["restored"] is True and m["processed"] == 1
    assert len(cluster.consume("ticks.tagged")) == 201


def test_probe_command_reports_failures():
    port = free_port()
    rc = subprocess.run([PAIRFLOW, "probe", f"http://127.0.0.1:{port}/readyz"],
                        capture_output=True, text=True)
    assert rc.returncode == 1 and "connection refused" in rc.stderr
    rc = subprocess.run([PAIRFLOW, "probe", "ftp://x/"], capture_output=True, text=True)
    assert rc.returncode == 2 and "expected http://HOST:PORT/PATH" in rc.stderr


def test_kafka_mock_fixed_bootstrap_port(tmp_path):
    port = free_port()
    mock = subprocess.Popen([PAIRFLOW, "kafka-mock", "--port", str(port), "--topics", "t"],
                            stdout=subprocess.PIPE, text=True)
    try:
        bootstrap = mock.stdout.readline().strip()
        assert bootstrap.startswith(f"127.0.0.1:{port},")
        fixed = f"127.0.0.1:{port}"
        subprocess.run(["kcat", "-b", fixed, "-P", "-t", "t"], input="a\nb\n", text=True,
                       check=True, timeout=30)
        out = subprocess.run(["kcat", "-b", fixed, "-C", "-t", "t", "-e", "-q"],
                             capture_output=True, text=True, check=True, timeout=30).stdout
        assert out.split() == ["a", "b"]
    finally:
        mock.send_signal(signal.SIGTERM)
        mock.wait(timeout=10)
