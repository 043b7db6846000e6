"""Python and R jobs through Kafka (kcat produces and reads back), and pipeline files."""
import json
import struct
import subprocess

import pytest

from conftest import PAIRFLOW, ROOT, ROUTER_JOB, finish, metrics_of, pair_bar_messages

PY_JOB = '''
import pairflow

def setup(ctx):
    pairflow.state.setdefault("seen", 0)

def process(msg):
    if msg.get("boom"):
        raise ValueError("boom requested")
    pairflow.state["seen"] += 1
    return {"id": msg["id"], "double": msg["id"] * 2, "seen": pairflow.state["seen"]}
'''

R_JOB = '''
process <- function(msg) {
  if (!is.null(msg$boom)) stop("boom requested")
  list(id = msg$id, double = msg$id * 2)
}
'''


def run_user_job(c, tmp_path, name, source):
    path = tmp_path / name
    path.write_text(source)
    records = [(f"k{i % 7}", json.dumps({"id": i})) for i in range(200)]
    records += [("bad", "{not json"), ("k1", json.dumps({"id": 999, "boom": True}))]
    c.produce("in", records)
    _, err = finish(c.job(str(path), "--in", "in", "--out", "out", "--name", "user",
                          "--idle-exit", "2"))
    outputs = [(k, json.loads(v)) for k, v in c.consume("out")]
    assert sorted(o["id"] for _, o in outputs) == list(range(200))
    for key, o in outputs:
        assert o["double"] == 2 * o["id"]
        assert key == f"k{o['id'] % 7}"
    dlq = [json.loads(v) for _, v in c.consume("dlq.user")]
    assert len(dlq) == 2
    by_key = {d["key"]: d for d in dlq}
    assert by_key["bad"]["payload"] == "{not json"
    assert "boom requested" in by_key["k1"]["error"]
    assert json.loads(by_key["k1"]["payload"]) == {"id": 999, "boom": True}
    m = metrics_of(err)
    assert m["processed"] == 200 and m["dead_lettered"] == 2
    return outputs, by_key


def test_python_job_on_kafka(make_cluster, tmp_path):
    c = make_cluster("in:3,out:3,dlq.user:1")
    outputs, dlq = run_user_job(c, tmp_path, "double.py", PY_JOB)
    # The error names the exception, and the file and line where it was raised.
    assert "ValueError: boom requested" in dlq["k1"]["error"]
    assert "double.py:9" in dlq["k1"]["error"]
    assert max(o["seen"] for _, o in outputs) == 200  # pairflow.state carried across messages


def test_r_job_on_kafka(make_cluster, tmp_path):
    c = make_cluster("in:3,out:3,dlq.user:1")
    run_user_job(c, tmp_path, "double.R", R_JOB)


def test_bad_python_file_fails_at_start_naming_file_and_line(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("def process(msg):\n    return msg +\n")
    r = subprocess.run([PAIRFLOW, "job", "run", str(bad), "--in", "-", "--out", "-"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1
    assert f"{bad}:2" in r.stderr
    missing = tmp_path / "no_process.py"
    missing.write_text("x = 1\n")
    r = subprocess.run([PAIRFLOW, "job", "run", str(missing), "--in", "-", "--out", "-"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "process" in r.stderr and str(missing) in r.stderr


def test_pipeline_trader_and_execution_jobs_equal_the_direct_pipeline(tmp_path):
    """The trading pipeline wired as jobs over in-process topics (the trader decides, the execution
    job trades) decides, fills and books exactly what the direct pipeline does on the same
    market."""
    pipeline = tmp_path / "p.toml"
    settings = ["market.symbols=12", "market.sessions=2", "market.planted_pairs=2",
                "discovery.top_k=2"]
    pipeline.write_text(f'''
[source]
kind = "generator"
set = {json.dumps(settings)}

[[job]]
name = "bars"
builtin = "bars"
in = "ticks"
out = "bars.1m"

[[job]]
name = "returns"
file = "{ROOT}/examples/jobs/passthrough.py"
in = "bars.1m"
out = "features.tagged"

[[job]]
name = "trader"
builtin = "trader"
in = "ticks"
out = "summary"
params = {{ set = {json.dumps(settings)} }}

[[job]]
name = "execution"
builtin = "execution"
in = ["orders", "ticks"]
out = "execution.summary"
params = {{ set = {json.dumps(settings)} }}
''')
    out_dir = tmp_path / "out"
    r = subprocess.run([PAIRFLOW, "run", str(pipeline), "--out-dir", str(out_dir), "--report",
                        str(tmp_path / "report.json")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["jobs"]["returns"]["processed"] == report["topics"]["bars.1m"] > 0
    tagged = [json.loads(line) for line in (out_dir / "features.tagged.jsonl").read_text().splitlines()]
    assert all(t["via"] == "returns" for t in tagged)
    decisions = json.loads((out_dir / "summary.jsonl").read_text())
    execution = json.loads((out_dir / "execution.summary.jsonl").read_text())
    direct = subprocess.run([PAIRFLOW, "demo", "--no-ui", "--summary", str(tmp_path / "direct.json")] +
                            sum([["--set", s] for s in settings], []),
                            capture_output=True, text=True, timeout=120)
    assert direct.returncode == 0, direct.stderr
    expected = json.loads((tmp_path / "direct.json").read_text())
    # The same decisions, fills and P&L to the last bit, although the jobs number symbols in
    # arrival order and the generator by name.
    assert execution["fills"] > 0
    for key, value in execution.items():
        assert expected[key] == value, key
    expected_pairs = [{k: v for k, v in p.items() if k not in ("trades", "net_pnl")}
                      for p in expected["pairs"]]
    assert decisions == {**{k: v for k, v in expected.items() if k in decisions},
                         "pairs": expected_pairs}
    assert set(decisions) | set(execution) == set(expected)
    # Per-pair P&L on pnl.pairs ends where the direct run's pairs end.
    # By pair id: the summary lists pairs in id order, and a pair retired and activated again
    # has two ids.
    last = {}
    for line in (out_dir / "pnl.pairs.jsonl").read_text().splitlines():
        p = json.loads(line)
        last[p["pair"]] = p
    for pair, p in enumerate(expected["pairs"]):
        if p["trades"] == 0 and pair not in last:
            continue
        assert (last[pair]["y"], last[pair]["x"]) == (p["y"], p["x"])
        assert last[pair]["net_pnl"] == pytest.approx(p["net_pnl"], rel=1e-12)
        assert last[pair]["trades"] == p["trades"]
    fills = [json.loads(line) for line in (out_dir / "executions.jsonl").read_text().splitlines()]
    assert sum(1 for f in fills if f["qty"] > 0) == execution["fills"]
    assert len({f["client_order_id"] for f in fills}) == execution["orders"]


def test_pipeline_file_errors_name_the_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('[[job]]\nname = "a"\nbuiltin = "bars"\nin = "nowhere"\nout = "x"\n')
    r = subprocess.run([PAIRFLOW, "run", str(p)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert f"{p}: job 'a' reads 'nowhere'" in r.stderr
    p.write_text('[[job]]\nname = "a"\nbuiltin = "bars"\nin = "ticks"\nout = "bars.1m"\n')
    r = subprocess.run([PAIRFLOW, "run", str(p), "--codec", "binary"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2
    assert r.stderr.strip() == "pairflow: run: --codec is for --job on Kafka (in process, " \
        "messages are not encoded)"


TO_BAR = '''
def process(msg):
    p = float(msg["price"])
    return {"ts": msg["ts"], "symbol": msg["symbol"], "open": p, "high": p, "low": p, "close": p,
            "volume": msg["size"], "vwap": p, "count": 1}
'''

READ_BAR = '''
def process(msg):
    return {"symbol": msg["symbol"], "close": msg["close"], "count": msg["count"]}

def process_batch(cols):
    return {"symbol": cols["symbol"], "close": cols["close"], "count": cols["count"]}
'''


def read_record(data):
    """Decodes one binary record (schema 7) by the wire format of docs/jobs.md, independently of
    the C++ codec."""
    assert data[:4] == b"PF\x01\x07", data[:4]
    count, shape_size = struct.unpack_from("<HH", data, 4)
    shape, values = data[8:8 + shape_size], data[8 + shape_size:]
    fields, i = [], 0
    for _ in range(count):
        n = shape[i]
        fields.append((shape[i + 1:i + 1 + n].decode(), shape[i + 1 + n]))
        i += n + 2
    out, j = {}, 0
    for name, kind in fields:
        if kind == 0:
            out[name] = None
        elif kind == 1:
            out[name], j = bool(values[j]), j + 1
        elif kind in (2, 3):
            out[name], j = struct.unpack_from("<q" if kind == 2 else "<d", values, j)[0], j + 8
        else:
            (n,) = struct.unpack_from("<H", values, j)
            out[name], j = values[j + 2:j + 2 + n].decode(), j + 2 + n
    assert i == len(shape) and j == len(values)
    return out


def consume_raw(cluster, topic):
    """The payloads of a topic as bytes (kcat prints each as SIZE:BYTES)."""
    raw = subprocess.run(["kcat", "-b", cluster.bootstrap, "-C", "-t", topic, "-e", "-q", "-f",
                          "%S:%s"], capture_output=True, timeout=60, check=True).stdout
    out, i = [], 0
    while i < len(raw):
        colon = raw.index(b":", i)
        size = int(raw[i:colon])
        out.append(raw[colon + 1:colon + 1 + size])
        i = colon + 1 + size
    return out


def test_binary_codec_between_jobs(make_cluster, tmp_path):
    """--codec binary: ticks (JSON from kcat) -> bars in the bar schema -> a process_batch job
    whose numpy columns come straight from the binary bars and go out as binary records."""
    c = make_cluster("ticks:2,bars.1m:2,features.check:2,dlq.to_bar:1,dlq.read_bar:1")
    ticks = [(f"S{i % 3}", json.dumps({"ts": 1704205800000000000 + i, "symbol": f"S{i % 3}",
                                       "price": 100 + i / 4, "size": 100})) for i in range(50)]
    c.produce("ticks", ticks)
    (tmp_path / "to_bar.py").write_text(TO_BAR)
    (tmp_path / "read_bar.py").write_text(READ_BAR)
    finish(c.job(str(tmp_path / "to_bar.py"), "--in", "ticks", "--out", "bars.1m", "--codec",
                 "binary", "--idle-exit", "2"))
    bars = consume_raw(c, "bars.1m")
    assert len(bars) == 50 and all(b.startswith(b"PF\x01\x02") for b in bars)  # bar schema
    finish(c.job(str(tmp_path / "read_bar.py"), "--in", "bars.1m", "--out", "features.check",
                 "--codec", "binary", "--idle-exit", "2"))
    checks = [read_record(b) for b in consume_raw(c, "features.check")]
    assert sorted(r["close"] for r in checks) == sorted(100 + i / 4 for i in range(50))
    assert all(r["count"] == 1 and isinstance(r["count"], int) for r in checks)
    assert sorted({r["symbol"] for r in checks}) == ["S0", "S1", "S2"]
    assert c.consume("dlq.read_bar") == []


def read_bar(data):
    """One binary bar (schema 2: ts, symbol, open, high, low, close, volume, vwap, count)."""
    assert data[:4] == b"PF\x01\x02", data[:4]
    (ts,), (n,) = struct.unpack_from("<q", data, 4), struct.unpack_from("<H", data, 12)
    symbol = data[14:14 + n].decode()
    *_, count = struct.unpack_from("<6dI", data, 14 + n)
    assert len(data) == 14 + n + 6 * 8 + 4
    return symbol, ts, count


@pytest.mark.parametrize("codec", ["json", "binary"])
def test_pipeline_file_one_job_per_process_on_kafka(make_cluster, tmp_path, codec):
    """The same pipeline file, distributed: the source and the bars job as separate processes on
    Kafka topics (JSON or the binary codec) produce the bars the embedded run produces."""
    pipeline = tmp_path / "p.toml"
    pipeline.write_text('''
[source]
kind = "generator"
set = ["market.symbols=4", "market.sessions=1", "market.planted_pairs=1", "market.session_length=60m"]

[[job]]
name = "bars"
builtin = "bars"
in = "ticks"
out = "bars.1m"
''')
    c = make_cluster("ticks:4,bars.1m:4,dlq.bars:1")
    src = subprocess.run([PAIRFLOW, "run", str(pipeline), "--job", "source", "--brokers", c.bootstrap,
                          "--codec", codec], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert src.returncode == 0, src.stderr
    # One partition per symbol key keeps each symbol's ticks in order for the bars job.
    bars = subprocess.run([PAIRFLOW, "run", str(pipeline), "--job", "bars", "--brokers", c.bootstrap,
                           "--idle-exit", "2", "--codec", codec], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert bars.returncode == 0, bars.stderr
    assert c.consume("dlq.bars") == []
    if codec == "json":
        distributed = sorted((json.loads(v)["symbol"], json.loads(v)["ts"])
                             for _, v in c.consume("bars.1m"))
    else:
        ticks = consume_raw(c, "ticks")
        assert ticks and all(t.startswith(b"PF\x01\x01") for t in ticks)  # binary ticks
        distributed = sorted(read_bar(b)[:2] for b in consume_raw(c, "bars.1m"))
    r = subprocess.run([PAIRFLOW, "run", str(pipeline), "--out-dir", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    embedded = sorted((json.loads(line)["symbol"], json.loads(line)["ts"]) for line in
                      (tmp_path / "out" / "bars.1m.jsonl").read_text().splitlines())
    assert len(embedded) == 4 * 60
    # On a live topic input never ends, so each symbol's last bar stays open (no later tick has
    # closed it); every other bar is identical.
    last = {}
    for symbol, ts in embedded:
        last[symbol] = max(ts, last.get(symbol, ts))
    assert distributed == [b for b in embedded if b[1] != last[b[0]]]


SPREAD_FEATURE = '''
def process(row):
    # A second-order feature from joined columns: how far the fast average runs above the slow one,
    # in units of recent volatility.
    if row["ema_5"] is None or row["sma_20"] is None or not row["std_20"]:
        return None
    return {"ts": row["ts"], "symbol": row["symbol"],
            "trend": (row["ema_5"] - row["sma_20"]) / row["std_20"]}
'''


def test_features_join_and_a_python_second_order_feature(tmp_path):
    """Indicators configured in the pipeline file, two feature topics joined by event time into
    features.joined, and a Python job computing a feature from the joined columns."""
    (tmp_path / "trend.py").write_text(SPREAD_FEATURE)
    pipeline = tmp_path / "features.toml"
    pipeline.write_text('''
[source]
kind = "generator"
set = ["market.symbols=5", "market.sessions=1", "market.planted_pairs=1"]

[[job]]
name = "fast"
builtin = "features"
in = "ticks"
out = "features.fast"
params = { bars = "1m", indicators = "ema:5" }

[[job]]
name = "slow"
builtin = "features"
in = "ticks"
out = "features.slow"
params = { bars = "1m", indicators = "sma:20,std:20" }

[[job]]
name = "join"
builtin = "join"
in = ["features.fast", "features.slow"]
out = "features.joined"
params = { mode = "asof", columns = { "features.fast" = ["ema_5"], "features.slow" = ["sma_20", "std_20"] } }

[[job]]
name = "trend"
file = "trend.py"
in = "features.joined"
out = "features.trend"
''')
    out = tmp_path / "out"
    r = subprocess.run([PAIRFLOW, "run", str(pipeline), "--out-dir", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    read = lambda name: [json.loads(l) for l in (out / f"{name}.jsonl").read_text().splitlines()]
    fast, slow, joined, trend = (read("features.fast"), read("features.slow"),
                                 read("features.joined"), read("features.trend"))
    assert len(fast) == len(slow) == len(joined) == 5 * 390  # one joined row per driving row
    slow_by = {(s["symbol"], s["ts"]): s for s in slow}
    for row in joined:
        s = slow_by[(row["symbol"], row["ts"])]  # as-of on equal bar times: the same bar
        assert row["sma_20"] == s["sma_20"] and row["std_20"] == s["std_20"]
    assert [j["ts"] for j in joined] == sorted(j["ts"] for j in joined)  # event-time order
    defined = [j for j in joined if j["sma_20"] is not None and j["std_20"]]
    assert len(trend) == len(defined) == 5 * (390 - 19)
    t0, d0 = trend[0], defined[0]
    assert t0["trend"] == pytest.approx((d0["ema_5"] - d0["sma_20"]) / d0["std_20"])


def test_join_job_on_kafka_reads_several_topics(make_cluster, tmp_path):
    """The stream join as one job on Kafka: two feature topics in, features.joined out."""
    pipeline = tmp_path / "join.toml"
    pipeline.write_text('''
[source]
kind = "generator"

[[job]]
name = "fast"
builtin = "features"
in = "ticks"
out = "features.fast"

[[job]]
name = "slow"
builtin = "features"
in = "ticks"
out = "features.slow"

[[job]]
name = "join"
builtin = "join"
in = ["features.fast", "features.slow"]
out = "features.joined"
params = { mode = "asof", lateness = "0", columns = { "features.fast" = ["f"], "features.slow" = ["s"] } }
''')
    c = make_cluster("features.fast:2,features.slow:2,features.joined:2,dlq.join:1")
    t0 = 1704205800000000000
    minute = 60_000_000_000
    # The slow feature exists every other minute; as-of takes the latest at or before each row.
    c.produce("features.slow", [(sym, json.dumps({"ts": t0 + m * minute, "symbol": sym, "s": m}))
                                for m in range(0, 40, 2) for sym in ("A", "B")])
    c.produce("features.fast", [(sym, json.dumps({"ts": t0 + m * minute, "symbol": sym, "f": 100 + m}))
                                for m in range(40) for sym in ("A", "B")])
    r = subprocess.run([PAIRFLOW, "run", str(pipeline), "--job", "join", "--brokers", c.bootstrap,
                        "--idle-exit", "3"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(v) for _, v in c.consume("features.joined")]
    assert c.consume("dlq.join") == []
    # Rows become final once every input's watermark has passed them: all but the newest minutes.
    assert len(rows) >= 2 * 36
    for row in rows:
        m = (row["ts"] - t0) // minute
        assert row["f"] == 100 + m
        assert row["s"] == m - (m % 2)  # the latest slow value at or before the row


def test_pair_actors_on_kafka_keyed_by_pair_id(make_cluster, tmp_path):
    """pairs.control + bars -> pair_router -> pairs.bars (keyed by pair id) -> pair_actors ->
    pairs.signals, each job its own process on Kafka."""
    wide = tmp_path / "wide.csv"
    g = subprocess.run([PAIRFLOW, "gen", "--format", "bars", "--out", str(wide), "--symbols", "6",
                        "--pairs", "2", "--sessions", "1", "--seed", "4"],
                       capture_output=True, text=True, timeout=60)
    assert g.returncode == 0, g.stderr
    c = make_cluster("pairs.control:1,bars.1m:3,pairs.bars:2,pairs.signals:2,dlq.router:1,dlq.actors:1")
    controls, time_ordered = pair_bar_messages(wide)
    c.produce("pairs.control", controls)
    pipeline = tmp_path / "actors.toml"
    pipeline.write_text('''
external_topics = ["pairs.control", "bars.1m"]
''' + ROUTER_JOB + '''
[[job]]
name = "actors"
builtin = "pair_actors"
in = "pairs.bars"
out = "pairs.signals"
params = { window = 60 }
''')

    def run_job(job):
        r = subprocess.run([PAIRFLOW, "run", str(pipeline), "--job", job, "--brokers", c.bootstrap,
                            "--idle-exit", "3"], capture_output=True, text=True, timeout=120,
                           cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        return r

    # The activations reach the router first (as they do live, where a pair is activated before
    # its bars arrive); its checkpoint keeps the routes across the restart.
    run_job("router")
    c.produce("bars.1m", time_ordered)
    assert metrics_of(run_job("router").stderr)["restored"] is True
    run_job("actors")
    assert c.consume("dlq.router") == [] and c.consume("dlq.actors") == []
    routed = c.consume("pairs.bars")
    assert {k for k, _ in routed} == {"0", "1"}  # keyed by pair id
    signals = [(k, json.loads(v)) for k, v in c.consume("pairs.signals")]
    assert signals, "no signals"
    for pair in ("0", "1"):
        mine = [s for k, s in signals if k == pair]
        assert mine, f"pair {pair} never traded"
        assert all(s["pair"] == int(pair) for s in mine)
        assert [s["ts"] for s in mine] == sorted(s["ts"] for s in mine)
        # The state machine alternates: an entry is followed by an exit or a stop.
        for a, b in zip(mine, mine[1:]):
            if a["action"].startswith("enter"):
                assert b["action"] in ("exit", "stop")
