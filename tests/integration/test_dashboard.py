"""The dashboard server of `pairflow demo`: every REST endpoint with its auth and its errors, the
controls (kill switch, pair commands) through the pipeline's thread with an audit trail, the
WebSocket's snapshots, sequence numbers and gap-free resume, and a client that stops reading,
which must neither slow nor change the run."""
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import websocket  # Debian's python3-websocket

from conftest import PAIRFLOW

# A small paced market: warm-up in ~3 s of wall time, a few sessions of trading after it.
DEMO_SETTINGS = ["--set", "market.sessions=4", "--set", "market.symbols=24",
                 "--set", "market.planted_pairs=3"]


class Demo:
    def __init__(self, tmp_path, speed="4000", extra=()):
        self.dir = tmp_path
        info = tmp_path / "ui.json"
        self.proc = subprocess.Popen(
            [PAIRFLOW, "demo", "--port", "0", "--speed", speed, "--ui-info", str(info),
             "--log-dir", str(tmp_path / "logs"), "--summary", str(tmp_path / "summary.json"),
             *DEMO_SETTINGS, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        deadline = time.time() + 30
        while not info.exists():
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.time() < deadline, "the dashboard never wrote --ui-info"
            time.sleep(0.05)
        meta = json.loads(info.read_text())
        self.url = meta["url"].rstrip("/")
        self.operator = meta["operator_token"]
        self.viewer = meta["viewer_token"]
        self.audit = meta["audit_log"]

    def request(self, path, token=None, method="GET", body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def get(self, path, token=None):
        status, text = self.request(path, token or self.viewer)
        assert status == 200, (path, status, text)
        return json.loads(text)

    def wait(self, predicate, timeout=60, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            assert self.proc.poll() is None, f"demo exited while waiting for {what}"
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        out, err = self.proc.communicate(timeout=60)
        # Under the sanitizer build a report would be here (and nowhere else).
        assert "Sanitizer" not in err and "runtime error" not in err, err[-3000:]
        return out, err


@pytest.fixture
def demo(tmp_path):
    d = Demo(tmp_path)
    yield d
    d.stop()


def test_every_endpoint_answers_with_auth_and_clear_errors(demo):
    demo.wait(lambda: demo.request("/api/status", demo.viewer)[0] == 200, what="first publish")
    # No token, an unknown one: 401 with a reason; health, openapi and metrics need none.
    for path in ["/api/status", "/api/pairs", "/api/pnl", "/api/stream"]:
        status, text = demo.request(path)
        assert status == 401 and "token" in json.loads(text)["error"], (path, status, text)
    assert demo.request("/api/status", "not-a-token")[0] == 401
    assert json.loads(demo.request("/api/health")[1]) == {"ok": True, "ready": True}
    spec = json.loads(demo.request("/api/openapi.json")[1])
    assert {"/api/status", "/api/pairs/{id}", "/api/control", "/metrics"} <= set(spec["paths"])

    expected = {
        "/api/status": {"run", "state", "ts", "ticks", "kill_switch", "trading_state", "role"},
        "/api/pairs": {"pairs"}, "/api/screener": {"tests", "passing", "candidates"},
        "/api/positions": {"positions"}, "/api/orders": {"open", "recent"},
        "/api/executions": {"executions"}, "/api/pnl": {"net_pnl", "equity", "curve", "drawdown"},
        "/api/risk": {"kill_switch", "trading_state", "denials", "limits", "audit"},
        "/api/jobs": {"jobs"}, "/api/config": {"discovery", "pair_model", "ui"},
    }
    for path, keys in expected.items():
        doc = demo.get(path)
        assert keys <= set(doc), (path, doc)
    assert demo.get("/api/status")["role"] == "viewer"
    assert demo.get("/api/status", demo.operator)["role"] == "operator"
    assert [j["name"] for j in demo.get("/api/jobs")["jobs"]] == ["engine", "execution"]

    # Pairs appear after the warm-up; one pair's detail has its bars and its thresholds.
    pairs = demo.wait(lambda: demo.get("/api/pairs")["pairs"], what="active pairs")
    pid = pairs[0]["id"]
    detail = demo.wait(lambda: (lambda d: d if d["history"] else None)(demo.get(f"/api/pairs/{pid}")),
                       what="pair history")
    assert detail["name"] == pairs[0]["name"] and detail["entry_z"] > detail["exit_z"]
    assert {"ts", "z", "y", "x"} <= set(detail["history"][-1])
    assert demo.get("/api/screener")["tests"] > 0

    # Malformed requests: 4xx with a reason, and the server keeps serving.
    cases = [
        ("/api/pairs/999999", "GET", None, demo.viewer, 404, "not active"),
        ("/api/pairs/abc", "GET", None, demo.viewer, 400, "bad pair id"),
        ("/api/nothing", "GET", None, demo.viewer, 404, "no endpoint"),
        ("/api/control", "GET", None, demo.operator, 405, "POST only"),
        ("/api/control", "POST", b"{not json", demo.operator, 400, "JSON object"),
        ("/api/control", "POST", b'{"command":"explode"}', demo.operator, 400, "unknown command"),
        ("/api/control", "POST", b'{"reason":"x"}', demo.operator, 400, "missing \"command\""),
        ("/api/control", "POST", b'{"command":"pause"}', demo.viewer, 403, "operator role"),
        ("/api/control", "POST", b'{"command":"acknowledge"}', demo.operator, 403, "admin"),
        ("/api/control", "POST", b"x" * 100_000, demo.operator, 413, "over"),
        ("/api/pairs/999999/control", "POST", b'{"command":"disable"}', demo.operator, 404,
         "not active"),
        (f"/api/pairs/{pid}/control", "POST", b'{"command":"thresholds","entry_z":1,"exit_z":2,'
         b'"stop_z":3}', demo.operator, 400, "exit_z < entry_z"),
        (f"/api/pairs/{pid}/control", "POST", b'{"command":"thresholds"}', demo.operator, 400,
         "entry_z"),
        (f"/api/pairs/{pid}/control", "POST", b'{"command":"boost"}', demo.operator, 400,
         "unknown pair command"),
    ]
    for path, method, raw, token, code, reason in cases:
        status, text = demo.request(path, token, method=method, raw=raw)
        assert status == code and reason in json.loads(text)["error"], (path, raw, status, text)
    assert demo.request("/api/status", demo.viewer)[0] == 200

    # Pair commands apply on the pipeline's thread and are idempotent.
    for body in [{"command": "thresholds", "entry_z": 2.5, "exit_z": 0.25, "stop_z": 5},
                 {"command": "disable"}, {"command": "disable"}]:
        status, text = demo.request(f"/api/pairs/{pid}/control", demo.operator, "POST", body)
        assert status == 200 and json.loads(text)["ok"], text
    # (thresholds take effect at the pair's next bar)
    demo.wait(lambda: next((p for p in demo.get("/api/pairs")["pairs"] if p["id"] == pid
                            and not p["enabled"] and (p["entry_z"], p["exit_z"], p["stop_z"])
                            == (2.5, 0.25, 5)), None),
              what="the pair disabled with its new thresholds")

    # The audit log has every control, refused ones included, with who and what came of it.
    audit = [json.loads(l) for l in open(os.path.join(demo.dir, demo.audit)).read().splitlines()]
    assert [a["status"] for a in audit if a["path"].endswith("/control")][-3:] == [200, 200, 200]
    assert any(a["status"] == 400 and a["command"] == "explode" for a in audit)
    assert all(a["who"] == "operator" and a["remote"].startswith("127.0.0.1") for a in audit)

    metrics = demo.request("/metrics")[1]
    for name in ["pairflow_job_messages_in_total{job=\"engine\"}", "pairflow_tick_to_bar_seconds_bucket",
                 "pairflow_bar_to_signal_seconds_count", "pairflow_order_to_fill_seconds_count",
                 "pairflow_active_pairs", "pairflow_risk_denials_total", "pairflow_kill_switch{mode=\"none\"} 1",
                 "pairflow_ui_controls_total{command=\"disable\",status=\"200\"} 2"]:
        assert name in metrics, name


def test_kill_switch_flattens_and_a_finished_run_refuses_controls(demo):
    demo.wait(lambda: any(p["qty"] for p in demo.get("/api/positions")["positions"]), timeout=90,
              what="a position")
    status, text = demo.request("/api/control", demo.operator, "POST",
                                {"command": "flatten", "reason": "test"})
    assert status == 200 and json.loads(text)["ok"], text
    demo.wait(lambda: demo.get("/api/positions")["positions"] == [], timeout=60,
              what="positions flat")
    risk = demo.get("/api/risk")
    assert risk["kill_switch"] == "flatten"
    assert any(a["by"] == "ui:operator" and a["mode"] == "flatten" for a in risk["audit"])
    # Idempotent: flatten again is fine; resume lifts only a pause, so it is refused with a reason.
    assert demo.request("/api/control", demo.operator, "POST", {"command": "flatten"})[0] == 200
    status, text = demo.request("/api/control", demo.operator, "POST", {"command": "resume"})
    assert status == 409 and "rearm" in json.loads(text)["error"]
    assert demo.request("/api/control", demo.operator, "POST", {"command": "rearm"})[0] == 200
    assert demo.wait(lambda: demo.get("/api/risk")["kill_switch"] == "none", what="re-armed")
    # After the run the dashboard still serves, but nothing trades: controls get 409.
    demo.wait(lambda: demo.get("/api/status")["state"] == "finished", timeout=120, what="the end")
    status, text = demo.request("/api/control", demo.operator, "POST", {"command": "pause"})
    assert status == 409 and "finished" in json.loads(text)["error"]
    out, _ = demo.stop()
    assert "still serving" in out


def ws_connect(demo, token=None, **kw):
    return websocket.create_connection(
        demo.url.replace("http://", "ws://") + "/api/stream?token=" + (token or demo.viewer),
        timeout=20, **kw)


def messages(ws):
    """The messages of the next frame (one message, or an array of them)."""
    frame = json.loads(ws.recv())
    return frame if isinstance(frame, list) else [frame]


def collect(ws, stream, until, timeout=60):
    """Messages of `stream` until `until(messages)` holds."""
    got = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in messages(ws):
            if m.get("stream") == stream:
                got.append(m)
                if until(got):
                    return got
    raise AssertionError(f"{stream}: not enough messages in {timeout}s: {got[-3:]}")


def test_websocket_snapshot_sequence_and_resume_without_gaps(tmp_path):
    demo = Demo(tmp_path, speed="2000")
    try:
        # Auth and origin checks happen before the upgrade.
        with pytest.raises(websocket.WebSocketBadStatusException) as e:
            websocket.create_connection(demo.url.replace("http://", "ws://") + "/api/stream")
        assert e.value.status_code == 401
        with pytest.raises(websocket.WebSocketBadStatusException) as e:
            ws_connect(demo, origin="http://evil.example")
        assert e.value.status_code == 403

        ws = ws_connect(demo)
        ws.send(json.dumps({"op": "ping"}))
        assert messages(ws) == [{"type": "pong"}]
        ws.send(json.dumps({"op": "subscribe", "streams": ["bogus"]}))
        assert "unknown stream" in messages(ws)[0]["error"]
        ws.send(json.dumps({"op": "subscribe", "streams": ["executions", "pnl"]}))
        first = collect(ws, "executions", lambda g: len(g) >= 30, timeout=90)
        assert first[0]["type"] == "snapshot"
        seqs = [m["seq"] for m in first[1:]]
        assert seqs == list(range(first[0]["seq"] + 1, first[0]["seq"] + 1 + len(seqs))), seqs
        last = seqs[-1]
        ws.close()
        time.sleep(1.0)  # the run goes on while the client is away
        ws = ws_connect(demo)
        ws.send(json.dumps({"op": "subscribe", "streams": ["executions"],
                            "since": {"executions": last}}))
        resumed = collect(ws, "executions", lambda g: len(g) >= 20, timeout=90)
        assert [m["type"] for m in resumed] == ["update"] * len(resumed)  # no snapshot: no gap
        assert [m["seq"] for m in resumed] == list(range(last + 1, last + 1 + len(resumed)))
        ws.close()
        # A resume from further back than the history holds gets a snapshot marked reset.
        ws = ws_connect(demo)
        ws.send(json.dumps({"op": "subscribe", "streams": ["executions"], "since": {"executions": 1}}))
        m = collect(ws, "executions", lambda g: len(g) >= 1)[0]
        if m["seq"] > 4096 + 1:
            assert m["type"] == "snapshot" and m["reset"] is True
        ws.close()
    finally:
        demo.stop()


def test_a_client_that_stops_reading_neither_slows_nor_changes_the_run(tmp_path):
    # A short stream history and frequent publishing, so a stuck client falls behind within the
    # run (paced: ~25 s of wall time).
    base = tmp_path / "alone"
    base.mkdir()
    alone = subprocess.run([PAIRFLOW, "demo", "--no-ui", "--summary", str(base / "s.json"),
                            *DEMO_SETTINGS], capture_output=True, text=True, timeout=300)
    assert alone.returncode == 0, alone.stderr
    watched = tmp_path / "watched"
    watched.mkdir()
    demo = Demo(watched, speed="4000", extra=["--set", "ui.stream_history=64", "--set",
                                           "ui.publish_ms=10"])
    try:
        # A client with a tiny receive buffer that subscribes to everything and never reads.
        stuck = ws_connect(demo, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 2048),))
        stuck.send(json.dumps({"op": "subscribe", "streams": [
            "pnl", "positions", "pairs", "signals", "orders", "executions", "screener", "risk",
            "jobs"]}))
        demo.wait(lambda: demo.get("/api/status")["state"] == "finished", timeout=300,
                  what="the run's end")
        # The run went on to its end while the client read nothing, and the client was cut off.
        metrics = demo.request("/metrics")[1]
        assert 'pairflow_ui_clients_disconnected_total{reason="slow"} 1' in metrics, [
            l for l in metrics.splitlines() if "ui_" in l]
        stuck.close()
    finally:
        demo.stop()
    # The same decisions and P&L with the stuck client as without the dashboard.
    a = json.loads((base / "s.json").read_text())
    b = json.loads((watched / "summary.json").read_text())
    for key in ["orders", "fills", "net_pnl", "trades", "pairs"]:
        assert a[key] == b[key], key


def test_grafana_dashboard_queries_only_metrics_pairflow_exports(demo):
    """deploy/grafana/pairflow.json: valid JSON, and every metric its queries name is in a real
    /metrics scrape (a renamed metric would leave a panel silently empty)."""
    import re
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    dash = json.load(open(os.path.join(root, "deploy", "grafana", "pairflow.json")))
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    names = {re.sub(r"_(bucket|sum|count)$", "", n) for e in exprs
             for n in re.findall(r"pairflow_[a-z_]+", e)}
    # Metrics appear with the first publish (and order -> fill with the first fill).
    demo.wait(lambda: "pairflow_fills_total" in demo.request("/metrics")[1], timeout=90,
              what="metrics")
    scraped = {re.sub(r"_(bucket|sum|count)$", "", l.split("{")[0].split(" ")[0])
               for l in demo.request("/metrics")[1].splitlines() if l.startswith("pairflow_")}
    assert names and names <= scraped, names - scraped
    # Prometheus' rules: counters end in _total, histograms are in base units (seconds).
    for line in demo.request("/metrics")[1].splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            if kind == "counter":
                assert name.endswith("_total"), name
            if kind == "histogram":
                assert name.endswith("_seconds"), name


UI_JOB_INPUTS = ["pnl", "positions", "pnl.pairs", "pairs.control", "pairs.signals", "executions",
                 "control.status", "control.audit"]


def ui_job_client(info, proc, timeout=60):
    """Demo's request helpers against a `ui` job's server, once `proc` has written `info`."""
    deadline = time.time() + timeout
    while not info.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "the ui job never wrote ui_info"
        time.sleep(0.05)
    meta = json.loads(info.read_text())
    client = Demo.__new__(Demo)
    client.url, client.viewer, client.operator, client.proc = (
        meta["url"].rstrip("/"), meta["viewer_token"], meta["operator_token"], proc)
    return client


def ui_pipeline(tmp_path, settings, ui_info, control_topic=False, status_topic=None):
    """trader, execution and ui jobs on a generated market; with `control_topic` the execution
    job also reads `control` (external: the ui job's kill switch on Kafka); with `status_topic`
    (default: with `control_topic`) every job publishes its status on jobs.status, and the ui
    job reads it."""
    if status_topic is None:
        status_topic = control_topic
    p = tmp_path / "p.toml"
    p.write_text(f'''
{'external_topics = ["control"]' if control_topic else ''}
{'status_topic = "jobs.status"' if status_topic else ''}

[source]
kind = "generator"
set = {json.dumps(settings)}

[[job]]
name = "trader"
builtin = "trader"
in = "ticks"
out = "summary"
params = {{ set = {json.dumps(settings)}, screener_topic = "screener" }}

[[job]]
name = "execution"
builtin = "execution"
in = {json.dumps(["orders", "ticks"] + (["control"] if control_topic else []))}
out = "execution.summary"
params = {{ set = {json.dumps(settings)} }}

[[job]]
name = "ui"
builtin = "ui"
in = {json.dumps(UI_JOB_INPUTS + ["screener"] + (["jobs.status"] if status_topic else []))}
out = "ui.log"
params = {{ port = 0, ui_info = "{ui_info}" }}
''')
    return p


def test_in_process_ui_job_serves_the_finished_run_until_stopped(tmp_path):
    """`pairflow run PIPELINE.toml` with a `ui` job, every job in process: when the input ends
    the dashboard keeps showing the finished run (what the topics said) until SIGTERM, which
    exits 0 with the run's report; --exit-at-end does not wait."""
    settings = ["market.symbols=12", "market.sessions=2", "market.planted_pairs=2",
                "discovery.top_k=2"]
    info = tmp_path / "ui.json"
    p = ui_pipeline(tmp_path, settings, info, status_topic=True)
    out_dir = tmp_path / "topics"
    run = subprocess.Popen([PAIRFLOW, "run", str(p), "--out-dir", str(out_dir)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        ui = ui_job_client(info, run)
        ui.wait(lambda: ui.get("/api/status")["state"] == "finished", timeout=120,
                what="the finished run")
        # What the dashboard shows is what the jobs published: the last P&L record...
        last_pnl = json.loads((out_dir / "pnl.jsonl").read_text().splitlines()[-1])
        pnl = ui.get("/api/pnl")
        assert pnl["equity"] == pytest.approx(last_pnl["equity"])
        assert pnl["net_pnl"] == pytest.approx(last_pnl["net_pnl"])
        # ... and the trader's pairs still active at the end.
        active, activated = set(), 0
        for line in (out_dir / "pairs.control.jsonl").read_text().splitlines():
            m = json.loads(line)
            if m["action"] == "activate":
                active.add(m["pair"])
                activated += 1
            else:
                active.discard(m["pair"])
        assert activated > 0 and {q["id"] for q in ui.get("/api/pairs")["pairs"]} == active
        # ... and the trader's last screen (its screener_topic), active pairs marked.
        screen = json.loads((out_dir / "screener.jsonl").read_text().splitlines()[-1])
        shown = ui.get("/api/screener")
        assert shown["screens"] == screen["screens"] >= 1 and shown["tests"] == screen["tests"]
        assert screen["candidates"] and any(q["active"] for q in shown["candidates"])
        assert shown["ts"] == screen["ts"]
        assert [q["name"] for q in shown["candidates"]] == [q["name"] for q in screen["candidates"]]
        names = {f'{q["y"]}~{q["x"]}' for q in ui.get("/api/pairs")["pairs"]}
        assert {q["name"] for q in shown["candidates"] if q["active"]} == names & {
            q["name"] for q in screen["candidates"]}
        # The jobs panel: every job's status records, in process as on Kafka; the ui job
        # finishes after the others, so it shows their final state and counts.
        jobs = {j["name"]: j for j in ui.get("/api/jobs")["jobs"]}
        assert set(jobs) == {"trader", "execution", "ui"}, jobs
        ticks = sum(1 for _ in open(out_dir / "ticks.jsonl"))
        orders = sum(1 for _ in open(out_dir / "orders.jsonl"))
        assert jobs["trader"]["state"] == "finished" and jobs["trader"]["messages_in"] == ticks
        assert jobs["execution"]["state"] == "finished"
        assert jobs["execution"]["messages_in"] == ticks + orders
        assert jobs["trader"]["lag"] == 0 and jobs["execution"]["lag"] == 0
        records = [json.loads(line) for line in open(out_dir / "jobs.status.jsonl")]
        assert {r["job"] for r in records} == {"trader", "execution", "ui"}
        # Nothing trades any more: a control is refused with the reason, not queued.
        status, text = ui.request("/api/control", ui.operator, "POST", {"command": "pause"})
        assert status == 409, (status, text)
        assert run.poll() is None, "the run exited instead of serving the finished dashboard"
        run.terminate()
        stdout, stderr = run.communicate(timeout=30)
        assert run.returncode == 0, stderr
        assert "the dashboard keeps serving the finished run" in stderr
        assert "job ui" in stdout and "dead letters 0" in stdout
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    # --exit-at-end: the same run returns by itself.
    info.unlink()
    r = subprocess.run([PAIRFLOW, "run", str(p), "--exit-at-end"], capture_output=True,
                       text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert info.exists() and "keeps serving" not in r.stderr


def test_ui_job_on_kafka_shows_the_pipeline_and_sends_the_kill_switch(make_cluster, tmp_path):
    """The distributed placement: the built-in `ui` job serves the dashboard from the topics the
    trader and execution jobs publish, and its kill switch reaches the execution job through the
    `control` topic (answered on control.status)."""
    settings = ["market.symbols=12", "market.sessions=2", "market.planted_pairs=2",
                "discovery.top_k=2"]
    info = tmp_path / "ui.json"
    p = ui_pipeline(tmp_path, settings, info, control_topic=True)
    c = make_cluster("ticks:2,summary:1,pairs.signals:1,pairs.control:1,orders:1,executions:1,"
                     "positions:1,pnl:1,pnl.pairs:1,control:1,control.status:1,control.audit:1,"
                     "execution.summary:1,ui.log:1,dlq.trader:1,dlq.execution:1,dlq.ui:1,"
                     "jobs.status:1,screener:1")
    for job in (["source"], ["trader", "--idle-exit", "3"]):
        r = subprocess.run([PAIRFLOW, "run", str(p), "--job", *job, "--brokers", c.bootstrap],
                           capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    # From the start of the topics: the dashboard shows the whole run, whenever it joins.
    ui = subprocess.Popen([PAIRFLOW, "run", str(p), "--job", "ui", "--brokers", c.bootstrap,
                           "--offset-reset", "earliest"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    execution = None
    try:
        demo = ui_job_client(info, ui)
        execution = subprocess.Popen([PAIRFLOW, "run", str(p), "--job", "execution", "--brokers",
                                      c.bootstrap, "--idle-exit", "120"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        # The execution job's P&L after each slice, and the trader's pair activations.
        demo.wait(lambda: demo.get("/api/pnl").get("ts", 0) > 0, timeout=120, what="P&L")
        assert demo.get("/api/pnl")["equity"] > 0
        active = {}
        for _, v in c.consume("pairs.control"):
            m = json.loads(v)
            if m["action"] == "activate":
                active[m["pair"]] = f'{m["y"]}~{m["x"]}'
            else:
                active.pop(m["pair"], None)
        demo.wait(lambda: {p["id"]: p["name"] for p in demo.get("/api/pairs")["pairs"]} == active,
                  what="the trader's active pairs")
        assert demo.get("/api/status")["source"] == "topics"
        # The screener panel: the trader's last screen, from the screener topic.
        last_screen = json.loads(c.consume("screener")[-1][1])
        demo.wait(lambda: demo.get("/api/screener")["screens"] == last_screen["screens"],
                  what="the trader's last screen")
        assert [q["name"] for q in demo.get("/api/screener")["candidates"]] == [
            q["name"] for q in last_screen["candidates"]]
        # The kill switch: sent on `control`, answered by the execution job.
        status, text = demo.request("/api/control", demo.operator, "POST",
                                    {"command": "pause", "reason": "from the ui job"})
        assert status == 200 and json.loads(text)["kill_switch"] == "pause", (status, text)
        assert any('"by":"ui:operator"' in v for _, v in c.consume("control"))
        assert demo.wait(lambda: demo.get("/api/risk")["kill_switch"] == "pause", what="risk")
        # Pair commands need the engine in process: refused with a reason.
        status, text = demo.request("/api/pairs/0/control", demo.operator, "POST",
                                    {"command": "disable"})
        assert status == 409 and "engine in process" in json.loads(text)["error"]
        assert demo.request("/api/control", demo.viewer, "POST", {"command": "halt"})[0] == 403
        # The jobs panel: every job of the pipeline, from the status records each one publishes
        # on jobs.status (the trader stopped at --idle-exit before the ui started; the execution
        # job runs).
        def rows():
            return {j["name"]: j for j in demo.get("/api/jobs")["jobs"]}
        demo.wait(lambda: rows().get("execution", {}).get("state") == "running"
                  and rows().get("trader", {}).get("state") == "stopped", what="the jobs panel")
        trader = rows()["trader"]
        assert trader["messages_in"] == len(c.consume("ticks")) and trader["dlq"] == 0, trader
        # Consumer lag (test_job_runtime checks it falls from a backlog): the trader caught up.
        assert trader["lag"] == 0
        assert rows()["execution"]["messages_in"] > 0 and "ui" in rows()
        # A job that dies is shown as such once its records stop (3 intervals, at least 5 s).
        execution.kill()
        execution.wait()
        demo.wait(lambda: rows()["execution"]["state"] == "stale", timeout=30,
                  what="the killed job marked stale")
    finally:
        for proc in (execution, ui):
            if proc and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)


def test_tls_serves_https_and_wss_only(tmp_path):
    """ui.tls_cert / ui.tls_key: the same API over HTTPS and WSS; plain HTTP gets nothing."""
    import ssl
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    demo = Demo(tmp_path, extra=["--set", f'ui.tls_cert="{cert}"', "--set", f'ui.tls_key="{key}"'])
    try:
        assert demo.url.startswith("https://")
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        req = urllib.request.Request(demo.url + "/api/status",
                                     headers={"Authorization": "Bearer " + demo.viewer})
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(req, context=context, timeout=10) as r:
                    assert json.loads(r.read())["role"] == "viewer"
                    break
            except urllib.error.HTTPError as e:
                assert e.code == 503 and time.time() < deadline  # not published yet
                time.sleep(0.1)
        ws = websocket.create_connection(
            demo.url.replace("https://", "wss://") + "/api/stream?token=" + demo.viewer,
            sslopt={"ca_certs": str(cert), "check_hostname": False}, timeout=20)
        ws.send(json.dumps({"op": "ping"}))
        assert messages(ws) == [{"type": "pong"}]
        ws.close()
        with pytest.raises(Exception):  # no plain HTTP on a TLS port
            urllib.request.urlopen(demo.url.replace("https://", "http://") + "/api/health",
                                   timeout=5)
        assert demo.proc.poll() is None
    finally:
        demo.stop()


TOKENS = {"viewer": "vera-viewer-token-0123456789", "operator": "olga-operator-token-0123456789",
          "admin": "ada-admin-token-0123456789abcdef"}


def configured_demo(tmp_path, *extra):
    from conftest import ROOT
    config = tmp_path / "demo.toml"
    text = open(os.path.join(ROOT, "examples", "demo.toml")).read()
    for role, token in TOKENS.items():
        text += f'\n[[ui.tokens]]\ntoken = "{token}"\nrole = "{role}"\nname = "{role[:3]}"\n'
    config.write_text(text)
    return Demo(tmp_path, extra=["--config", str(config), *extra])


def test_configured_tokens_carry_their_roles_and_names(tmp_path):
    """[[ui.tokens]]: each token has the role and name the config gives it, and no random token
    is generated; acknowledge needs admin; pause, resume, disable and enable work for operators."""
    demo = configured_demo(tmp_path)
    try:
        assert (demo.operator, demo.viewer) == (TOKENS["operator"], TOKENS["viewer"])
        demo.wait(lambda: demo.request("/api/status", TOKENS["viewer"])[0] == 200,
                  what="first publish")
        for role, token in TOKENS.items():
            status = demo.get("/api/status", token)
            assert (status["role"], status["who"], status["read_only"]) == (role, role[:3], False)
        ack = {"command": "acknowledge", "reason": "test"}
        status, text = demo.request("/api/control", TOKENS["operator"], "POST", ack)
        assert status == 403 and "admin" in json.loads(text)["error"], text
        status, text = demo.request("/api/control", TOKENS["admin"], "POST", ack)
        assert status in (200, 409) and "ok" in json.loads(text), text  # reached the engine
        for command in ["pause", "resume"]:
            status, text = demo.request("/api/control", TOKENS["operator"], "POST",
                                        {"command": command})
            assert status == 200 and json.loads(text)["ok"], (command, text)
        assert demo.wait(lambda: demo.get("/api/risk")["kill_switch"] == "none", what="resumed")
        pairs = demo.wait(lambda: demo.get("/api/pairs")["pairs"], what="active pairs")
        pid = pairs[0]["id"]
        for command, enabled in [("disable", False), ("enable", True)]:
            status, text = demo.request(f"/api/pairs/{pid}/control", TOKENS["operator"], "POST",
                                        {"command": command})
            assert status == 200 and json.loads(text)["ok"], (command, text)
            demo.wait(lambda: any(p["id"] == pid and p["enabled"] == enabled
                                  for p in demo.get("/api/pairs")["pairs"]), what=command)
        audit = [json.loads(line) for line in
                 open(os.path.join(demo.dir, demo.audit)).read().splitlines()]
        assert {a["who"] for a in audit} == {"ope", "adm"}
    finally:
        out, _ = demo.stop()
    assert "generated tokens" not in out


def test_read_only_serves_everything_and_refuses_every_control(tmp_path):
    demo = configured_demo(tmp_path, "--read-only")
    try:
        demo.wait(lambda: demo.request("/api/status", TOKENS["viewer"])[0] == 200,
                  what="first publish")
        assert demo.get("/api/status", TOKENS["admin"])["read_only"] is True
        pairs = demo.wait(lambda: demo.get("/api/pairs")["pairs"], what="active pairs")
        for path, body in [("/api/control", {"command": "flatten"}),
                           ("/api/control", {"command": "acknowledge"}),
                           (f"/api/pairs/{pairs[0]['id']}/control", {"command": "disable"})]:
            status, text = demo.request(path, TOKENS["admin"], "POST", body)
            assert status == 403 and "read-only" in json.loads(text)["error"], (path, text)
        assert demo.get("/api/risk")["kill_switch"] == "none"
        assert all(p["enabled"] for p in demo.get("/api/pairs")["pairs"])
    finally:
        out, _ = demo.stop()
    assert "read-only" in out
