"""The execution job as operators meet it: `pairflow ctl` against a running job (its control
socket), the `control` topic, SIGUSR1, and the audit trail each leaves."""
import json
import os
import signal
import subprocess
import time

import pytest
from conftest import PAIRFLOW, free_port, metrics_of

CLUSTER_TOPICS = ("ticks:2,orders:1,control:1,control.status:1,control.audit:1,executions:1,"
                  "positions:1,pnl:1,pnl.pairs:1,execution.summary:1,dlq.execution:1")


def pipeline_file(tmp_path, sock):
    p = tmp_path / "p.toml"
    p.write_text(f'''
external_topics = ["control"]
[source]
kind = "generator"
set = ["market.symbols=6", "market.sessions=1"]

[[job]]
name = "trader"
builtin = "trader"
in = "ticks"
out = "summary"

[[job]]
name = "execution"
builtin = "execution"
in = ["orders", "ticks", "control"]
out = "execution.summary"
params = {{ control_socket = "{sock}", audit_log = "{tmp_path}/audit.jsonl", journal = "{tmp_path}/journal.db" }}
''')
    return p


def ctl(*args):
    return subprocess.run([PAIRFLOW, "ctl", *args], capture_output=True, text=True, timeout=60)


def wait_until(predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_ctl_sigusr1_and_the_control_topic_drive_a_running_execution_job(make_cluster, tmp_path):
    c = make_cluster(CLUSTER_TOPICS)
    sock = str(tmp_path / "exec.sock")
    pipeline = pipeline_file(tmp_path, sock)
    job = subprocess.Popen([PAIRFLOW, "run", str(pipeline), "--job", "execution", "--brokers",
                            c.bootstrap], cwd=tmp_path, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        if not wait_until(lambda: os.path.exists(sock)):
            job.kill()
            pytest.fail(f"the control socket never appeared: {job.communicate()[1]}")

        def status():
            r = ctl("status", "--socket", sock)
            assert r.returncode == 0, r.stderr
            return json.loads(r.stdout)
        assert status()["kill_switch"] == "none"
        r = ctl("pause", "--socket", sock, "--by", "alice", "--reason", "news at 14:00")
        assert r.returncode == 0 and json.loads(r.stdout)["kill_switch"] == "pause"
        r = ctl("resume", "--socket", sock, "--by", "alice")
        assert r.returncode == 0 and json.loads(r.stdout)["kill_switch"] == "none"
        r = ctl("kill", "flatten", "--socket", sock, "--by", "bob")
        assert r.returncode == 0 and json.loads(r.stdout)["kill_switch"] == "flatten"
        # Latched: resume does not lift a flatten, and a weaker trigger does not weaken it.
        r = ctl("resume", "--socket", sock, "--by", "bob")
        assert r.returncode == 1 and "use rearm" in r.stderr
        assert r.stderr.count("\n") == 1 and json.loads(r.stdout)["ok"] is False
        r = ctl("pause", "--socket", sock)
        assert r.returncode == 0 and json.loads(r.stdout)["kill_switch"] == "flatten"
        r = ctl("rearm", "--socket", sock, "--by", "risk-officer", "--reason", "checked")
        assert r.returncode == 0 and json.loads(r.stdout)["kill_switch"] == "none"
        # SIGUSR1 halts (the job's sigusr1 param).
        job.send_signal(signal.SIGUSR1)
        assert wait_until(lambda: status()["kill_switch"] == "halt")
        ctl("rearm", "--socket", sock, "--by", "carol")
        # The control topic, for the dashboard and other processes.
        r = ctl("kill", "pause", "--brokers", c.bootstrap, "--by", "dashboard")
        assert r.returncode == 0, r.stderr
        assert wait_until(lambda: status()["kill_switch"] == "pause", timeout=60)
    finally:
        job.send_signal(signal.SIGTERM)
        out, err = job.communicate(timeout=60)
    assert job.returncode == 0, err
    assert not os.path.exists(sock)  # removed on exit
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    trail = [(a["action"], a["mode"], a["by"]) for a in audit]
    assert trail == [("trigger", "pause", "alice"), ("resume", "none", "alice"),
                     ("trigger", "flatten", "bob"), ("ignored", "pause", trail[3][2]),
                     ("rearm", "none", "risk-officer"), ("trigger", "halt", "signal:SIGUSR1"),
                     ("rearm", "none", "carol"), ("trigger", "pause", "dashboard")]
    assert audit[0]["reason"] == "news at 14:00" and audit[4]["reason"] == "checked"
    # The same trail on control.audit, and every command's answer on control.status.
    assert [json.loads(v) for _, v in c.consume("control.audit")] == audit
    statuses = [json.loads(v) for _, v in c.consume("control.status")]
    assert [s["kill_switch"] for s in statuses] == ["pause", "none", "flatten", "flatten",
                                                     "flatten", "none", "halt", "none", "pause"]
    assert c.consume("dlq.execution") == []


def test_ctl_errors_are_one_line_and_non_zero(tmp_path):
    missing = str(tmp_path / "none.sock")
    r = ctl("status", "--socket", missing)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert missing in r.stderr and "no execution job is listening" in r.stderr
    r = ctl("explode", "--socket", missing)
    assert r.returncode == 2 and "unknown action 'explode'" in r.stderr
    r = ctl("kill", "gently", "--socket", missing)
    assert r.returncode == 2 and "mode 'gently'" in r.stderr
    r = ctl("status")
    assert r.returncode == 2 and "exactly one of --socket" in r.stderr


def test_a_bad_control_message_is_dead_lettered_not_fatal(make_cluster, tmp_path):
    c = make_cluster(CLUSTER_TOPICS)
    sock = str(tmp_path / "exec.sock")
    pipeline = pipeline_file(tmp_path, sock)
    c.produce("control", [("x", '{"command":"explode"}'), ("x", "not json"),
                          ("x", '{"command":"kill","mode":"halt","by":"test"}')])
    r = subprocess.run([PAIRFLOW, "run", str(pipeline), "--job", "execution", "--brokers",
                        c.bootstrap, "--idle-exit", "3"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    dlq = [json.loads(v) for _, v in c.consume("dlq.execution")]
    assert len(dlq) == 2
    assert "command" in dlq[0]["error"] and "not JSON" in dlq[1]["error"]
    # The good command after them was applied.
    statuses = [json.loads(v) for _, v in c.consume("control.status")]
    assert [s["kill_switch"] for s in statuses] == ["halt"]


# ---- The FIX gateway against fix-sim, and crashes at every point of an order's life ----------

@pytest.fixture(scope="module")
def sized_market(tmp_path_factory):
    """A generated market with displayed sizes (bid_size, ask_size), so large orders fill in
    parts."""
    d = tmp_path_factory.mktemp("market")
    raw = d / "raw.csv"
    r = subprocess.run([PAIRFLOW, "gen", "--out", str(raw), "--symbols", "12", "--pairs", "2",
                        "--sessions", "2", "--seed", "7"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    lines = raw.read_text().splitlines()
    assert lines[0] == "ts,symbol,price,size,bid,ask"
    out = [lines[0] + ",bid_size,ask_size"]
    for i, line in enumerate(lines[1:]):
        out.append(f"{line},{100 + 37 * (i % 5)},{100 + 41 * (i % 3)}")
    ticks = d / "ticks.csv"
    ticks.write_text("\n".join(out) + "\n")
    return ticks


class Sim:
    def __init__(self, tmp_path, ticks):
        self.port = free_port()
        self.state_path = tmp_path / f"sim{self.port}.json"
        self.proc = subprocess.Popen([PAIRFLOW, "fix-sim", "--port", str(self.port), "--ticks",
                                      str(ticks), "--state", str(self.state_path)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert "listening on port" in line, self.proc.stderr.read()

    def state(self):
        return json.loads(self.state_path.read_text())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, self.stderr = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, self.stderr
        return json.loads(out.strip().splitlines()[-1])


def trading_pipeline(path, source, trader_set, execution_params):
    """A pipeline file: `source` (TOML lines), the trader, and the execution job on orders + ticks
    with `execution_params` (TOML inline-table body)."""
    path.write_text(f'''
[source]
{source}

[[job]]
name = "trader"
builtin = "trader"
in = "ticks"
out = "summary"
params = {{ set = {json.dumps(trader_set)} }}

[[job]]
name = "execution"
builtin = "execution"
in = ["orders", "ticks"]
out = "execution.summary"
params = {{ {execution_params} }}
''')
    return path


def fix_pipeline(tmp_path, ticks, port, name="p.toml"):
    p = tmp_path / name
    settings = ["discovery.top_k=2"]
    execution = settings + ["broker.kind=fix", f"fix.port={port}", "fix.logon_timeout_s=30",
                            "fix.status_timeout_s=30"]
    return trading_pipeline(p, f'kind = "csv"\npath = "{ticks}"', settings,
                            f'set = {json.dumps(execution)}, journal = "{tmp_path}/journal.db"')


def run_pipeline(pipeline, out_dir, env=None):
    return subprocess.run([PAIRFLOW, "run", str(pipeline), "--out-dir", str(out_dir)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_execution_job_trades_through_fix_sim(sized_market, tmp_path):
    sim = Sim(tmp_path, sized_market)
    try:
        r = run_pipeline(fix_pipeline(tmp_path, sized_market, sim.port), tmp_path / "out")
        assert r.returncode == 0, r.stderr
    finally:
        state = sim.stop()
    summary = json.loads((tmp_path / "out" / "execution.summary.jsonl").read_text())
    assert summary["orders"] > 10 and summary["fills"] >= summary["orders"] // 2
    assert state["orders"] == summary["orders"] and state["duplicates"] == 0
    assert state["fills"] == summary["fills"]  # every fill the sim made was booked once
    assert {k: v for k, v in state["positions"].items() if v} == summary["positions"]
    fills = [json.loads(x) for x in (tmp_path / "out" / "executions.jsonl").read_text().splitlines()]
    assert any(f["status"] == "partially_filled" for f in fills)  # displayed sizes


CRASH_POINTS = ["before_journal:3", "before_send:3", "after_send:1", "after_send:4",
                "after_ack:2", "before_fill_journal:3", "between_fills:1", "between_fills:3"]
# Two of them (one before the order leaves, one between fills) also run under the sanitizers.
SANITIZED_CRASH_POINTS = {"before_send:3", "between_fills:1"}


@pytest.mark.parametrize("point", [p if p in SANITIZED_CRASH_POINTS else
                                   pytest.param(p, marks=pytest.mark.heavy)
                                   for p in CRASH_POINTS])
def test_kill_9_at_any_point_duplicates_no_order(sized_market, tmp_path, point):
    """kill -9 of the execution job (SIGKILL at a crash point), then a restart: fix-sim never
    receives the same order twice, and the positions after reconciliation are the broker's."""
    sim = Sim(tmp_path, sized_market)
    try:
        pipeline = fix_pipeline(tmp_path, sized_market, sim.port)
        crashed = run_pipeline(pipeline, tmp_path / "crashed", {"PAIRFLOW_CRASH_AT": point})
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
        assert f"PAIRFLOW_CRASH_AT={point}" in crashed.stderr
        before = sim.state()
        restarted = run_pipeline(pipeline, tmp_path / "restarted")
        assert restarted.returncode == 0, restarted.stderr
        assert "reconciliation" not in restarted.stderr, restarted.stderr
    finally:
        state = sim.stop()
    assert state["duplicates"] == 0, state
    assert state["orders"] >= before["orders"]
    summary = json.loads((tmp_path / "restarted" / "execution.summary.jsonl").read_text())
    assert summary["kill_switch"] == "none" and summary["trading_state"] == "active"
    assert {k: v for k, v in state["positions"].items() if v} == summary["positions"]


def test_fix_sim_drops_the_connection_on_sigusr1_and_stops_cleanly(sized_market, tmp_path):
    sim = Sim(tmp_path, sized_market)
    sim.proc.send_signal(signal.SIGUSR1)
    assert wait_until(lambda: sim.state()["drops"] == 1)
    state = sim.stop()
    assert state["drops"] == 1
    assert "SIGUSR1: connection dropped" in sim.stderr


def test_fix_is_for_the_execution_job_and_its_settings_are_checked(tmp_path):
    r = subprocess.run([PAIRFLOW, "demo", "--no-ui", "--set", "broker.kind=fix"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "broker.kind = 'fix' is for the execution job" in r.stderr
    for setting, message in [("broker.kind=telex", "broker.kind must be 'paper' or 'fix'"),
                             ("fix.port=0", "fix.port must be in [1, 65535]"),
                             ("fix.store=tape", "fix.store must be 'memory' or 'file'"),
                             ("fix.store=file", "fix.store = 'file' needs fix.store_path"),
                             ("fix.queue_limit=0", "fix.queue_limit must be >= 1")]:
        r = subprocess.run([PAIRFLOW, "demo", "--no-ui", "--set", setting], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 2 and message in r.stderr, (setting, r.stderr)
    # No counterparty: the execution job with a journal stops with one line, it does not hang.
    port = free_port()
    p = tmp_path / "p.toml"
    p.write_text(f'''
[source]
kind = "generator"
set = ["market.symbols=4", "market.sessions=1"]

[[job]]
name = "execution"
builtin = "execution"
in = ["ticks"]
out = "execution.summary"
params = {{ set = ["broker.kind=fix", "fix.port={port}", "fix.logon_timeout_s=1"], journal = "{tmp_path}/j.db" }}
''')
    r = subprocess.run([PAIRFLOW, "run", str(p)], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert f"no logon to 127.0.0.1:{port}" in r.stderr, r.stderr


def test_journal_on_a_compacted_topic_lets_the_job_restart_elsewhere(make_cluster, tmp_path):
    """The distributed execution job keeps its order journal on a Kafka topic: started again on
    another machine (no local files) over the same input, it recognises every decision it already
    traded and sends no order again."""
    settings = ["market.symbols=12", "market.sessions=2", "market.planted_pairs=2",
                "discovery.top_k=2"]
    p = trading_pipeline(tmp_path / "p.toml", f'kind = "generator"\nset = {json.dumps(settings)}',
                         settings, f'set = {json.dumps(settings)}, journal = "kafka:execution.journal"')
    c = make_cluster("ticks:4,summary:1,pairs.signals:1,pairs.control:1,orders:1,executions:1,"
                     "positions:1,pnl:1,pnl.pairs:1,control.status:1,control.audit:1,"
                     "execution.summary:1,dlq.trader:1,dlq.execution:1,execution.journal:1")
    for job in (["source"], ["trader", "--idle-exit", "3"]):
        r = subprocess.run([PAIRFLOW, "run", str(p), "--job", *job, "--brokers", c.bootstrap],
                           capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    first, second = tmp_path / "machine1", tmp_path / "machine2"
    first.mkdir()
    second.mkdir()
    r = subprocess.run([PAIRFLOW, "run", str(p), "--job", "execution", "--brokers", c.bootstrap,
                        "--idle-exit", "3"], capture_output=True, text=True, timeout=300,
                       cwd=first)
    assert r.returncode == 0, r.stderr
    fills = [v for _, v in c.consume("executions") if '"status":"filled"' in v]
    assert len(fills) > 10, (r.stderr, [v for _, v in c.consume("executions")][:6])
    journal = dict(c.consume("execution.journal"))
    assert sum(k.startswith("order:") for k in journal) == len(fills)
    assert any(k.startswith("intent:") for k in journal)
    # Another machine, the input read again from the start: every intent is known, nothing is
    # sent twice.
    r = subprocess.run([PAIRFLOW, "run", str(p), "--job", "execution", "--brokers", c.bootstrap,
                        "--idle-exit", "3", "--reset-checkpoint"], capture_output=True, text=True,
                       timeout=300, cwd=second)
    assert r.returncode == 0, r.stderr
    assert "reconciliation" not in r.stderr
    assert metrics_of(r.stderr)["user"]["duplicate_intents"] > 0
    assert len([v for _, v in c.consume("executions") if '"status":"filled"' in v]) == len(fills)
    assert c.consume("dlq.execution") == []
    # In process there is no cluster for it: one line.
    r = subprocess.run([PAIRFLOW, "run", str(p)], capture_output=True, text=True, timeout=120,
                       cwd=second)
    assert r.returncode != 0 and "needs the job on Kafka (--brokers)" in r.stderr, r.stderr
