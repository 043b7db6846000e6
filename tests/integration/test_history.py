"""The history store end to end: the `history` job into SQLite (in process and on Kafka, with a
kill -9 in the middle of a batch), `pairflow history`, recording and byte-identical replay, Python
and R jobs reading history, warm-up of a restarted trader, and the `influx` job into a real
VictoriaMetrics server (round trip, escaping, an outage with spool and backpressure)."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import (PAIRFLOW, ROOT, ROUTER_JOB, finish, free_port, metrics_of,
                      pair_bar_messages)

DEMO_TOML = os.path.join(ROOT, "examples", "demo.toml")
VM = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"
SMALL = ["market.sessions=2", "market.symbols=12", "market.planted_pairs=2"]


def run(*args, cwd=None, env=None, check=True, timeout=300):
    r = subprocess.run([PAIRFLOW, *args], capture_output=True, text=True, cwd=cwd, env=env,
                       timeout=timeout)
    if check:
        assert r.returncode == 0, f"pairflow {' '.join(args)}: exit {r.returncode}: {r.stderr}"
    return r


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def without_nulls(d):
    return {k: v for k, v in d.items() if v is not None}


RECORDED = ["ticks", "bars.1m", "pairs.signals", "pairs.control", "orders", "executions",
            "positions", "pnl", "pnl.pairs"]


def recording_pipeline(path, db, source_set=SMALL):
    path.write_text(f'''
[source]
kind = "generator"
config = "{DEMO_TOML}"
set = {json.dumps(source_set)}

[[job]]
name = "bars"
builtin = "bars"
in = "ticks"
out = "bars.1m"

[[job]]
name = "trader"
builtin = "trader"
in = "ticks"
out = "summary"
params = {{ config = "{DEMO_TOML}", set = {json.dumps(source_set + ["discovery.top_k=2"])} }}

[[job]]
name = "execution"
builtin = "execution"
in = ["orders", "ticks"]
out = "execution.summary"
params = {{ config = "{DEMO_TOML}", set = {json.dumps(source_set)} }}

[[job]]
name = "history"
builtin = "history"
in = {json.dumps(RECORDED)}
out = "history.out"
params = {{ db = "{db}", batch_rows = 5000 }}
''')
    return path


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A pipeline run with every topic recorded: (its output directory, the history file)."""
    d = tmp_path_factory.mktemp("recorded")
    db = d / "h.db"
    p = recording_pipeline(d / "p.toml", db)
    run("run", str(p), "--out-dir", str(d / "out"), cwd=d)
    return d / "out", db


def test_every_recorded_topic_reads_back_as_published(recorded):
    out, db = recorded
    topics = json.loads(run("history", "topics", "--db", str(db), "--json").stdout)
    by_topic = {t["topic"]: t for t in topics}
    assert set(by_topic) == set(RECORDED)
    for topic in RECORDED:
        published = jsonl(out / f"{topic}.jsonl")
        assert by_topic[topic]["rows"] == len(published), topic
        got = [json.loads(line) for line in
               run("history", "query", "--db", str(db), "--topic", topic, "--json").stdout
               .splitlines()]
        # Same messages, same values, in event-time order (ties as published).
        key = lambda m: m["ts"]  # noqa: E731
        assert [without_nulls(m) for m in got] == \
            [without_nulls(m) for m in sorted(published, key=key)], topic
    # One table per message type, never per symbol or pair.
    tables = {r[0] for r in sqlite3.connect(db).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_pf\\_%' "
        "ESCAPE '\\'")}
    assert tables == {"ticks", "bars", "signals", "pair_control", "orders", "executions",
                      "positions", "pnl", "pair_pnl"}


def test_query_one_symbol_in_a_range_as_csv(recorded):
    out, db = recorded
    bars = [b for b in jsonl(out / "bars.1m.jsonl") if b["symbol"] == "S003"]
    lo, hi = bars[10]["ts"], bars[40]["ts"]
    r = run("history", "query", "--db", str(db), "--topic", "bars.1m", "--symbol", "S003",
            "--from", str(lo), "--to", str(hi), "--csv")
    lines = r.stdout.splitlines()
    assert lines[0] == "ts,symbol,open,high,low,close,volume,vwap,count"
    assert len(lines) == 1 + 30
    first = lines[1].split(",")
    assert first[1] == "S003" and float(first[5]) == bars[10]["close"]
    # The CSV reads back as ticks-like input elsewhere: its times parse as pairflow times.
    assert first[0].endswith("Z")


def test_bad_arguments_and_unknown_topics_are_one_line_exit_2(recorded, tmp_path):
    _, db = recorded
    cases = [
        (["history", "query", "--db", str(db), "--topic", "nope"],
         "unknown topic 'nope' (stored: bars.1m,"),
        (["history", "query", "--db", str(tmp_path / "missing.db"), "--topic", "ticks"],
         "no such history file"),
        (["history", "query", "--db", str(db), "--topic", "ticks", "--from", "yesterday"],
         "--from 'yesterday'"),
        (["history", "prune", "--db", str(db)], "give --older-than AGE or --before TIME"),
        (["history", "prune", "--db", str(db), "--older-than", "soon"], "not a positive duration"),
    ]
    for args, expected in cases:
        r = run(*args, check=False)
        assert r.returncode == 2, (args, r.stderr)
        assert expected in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    not_history = tmp_path / "other.db"
    sqlite3.connect(not_history).execute("CREATE TABLE t (x)")
    r = run("history", "topics", "--db", str(not_history), check=False)
    assert r.returncode == 2 and "not a pairflow history file" in r.stderr


def test_prune_deletes_by_age_before_the_newest_row(recorded, tmp_path):
    _, db = recorded
    copy = tmp_path / "copy.db"
    src = sqlite3.connect(db)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    dst.close()
    before = {t["topic"]: t for t in json.loads(run("history", "topics", "--db", str(copy),
                                                     "--json").stdout)}
    r = run("history", "prune", "--db", str(copy), "--older-than", "1d", "--topic", "ticks")
    assert r.stdout.startswith("deleted ")
    after = {t["topic"]: t for t in json.loads(run("history", "topics", "--db", str(copy),
                                                    "--json").stdout)}
    assert 0 < after["ticks"]["rows"] < before["ticks"]["rows"]
    assert after["bars.1m"] == before["bars.1m"]  # other topics untouched


@pytest.mark.heavy
def test_demo_recording_replays_byte_identically(tmp_path):
    db = tmp_path / "demo.db"
    settings = ["--set", "market.sessions=2", "--set", "market.symbols=16",
                "--set", "market.planted_pairs=2", "--set", "discovery.top_k=2"]
    first = run("demo", "--no-ui", "--history", str(db), "--log-dir", str(tmp_path / "a"),
                *settings)
    second = run("backtest", "--from-history", str(db), "--log-dir", str(tmp_path / "b"),
                 *settings)
    for name in ("signals.jsonl", "orders.jsonl", "executions.jsonl", "pnl.jsonl",
                 "summary.json"):
        a = (tmp_path / "a" / name).read_bytes()
        assert a == (tmp_path / "b" / name).read_bytes(), name
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["trades"] > 0
    assert first.stdout.splitlines()[-3:] == second.stdout.splitlines()[-3:]
    # A backtest records too, and its recording replays the same again.
    run("backtest", "--from-history", str(db), "--history", str(tmp_path / "again.db"),
        "--log-dir", str(tmp_path / "c"), *settings)
    run("backtest", "--from-history", str(tmp_path / "again.db"), "--log-dir",
        str(tmp_path / "d"), *settings)
    assert (tmp_path / "c" / "orders.jsonl").read_bytes() == \
        (tmp_path / "d" / "orders.jsonl").read_bytes()
    r = run("backtest", "--from-history", str(tmp_path / "nope.db"), check=False)
    assert r.returncode == 2 and "no such history file" in r.stderr


PY_JOB = '''
import pairflow

def setup(ctx):
    bars = pairflow.history("bars.1m", symbol="S003")
    late = pairflow.history("bars.1m", symbol="S003", start=int(bars["ts"].iloc[100].value))
    pairflow.state["n"] = len(bars)
    pairflow.state["mean"] = float(bars["close"].mean())
    pairflow.state["late"] = len(late)
    pairflow.state["ts_type"] = str(bars["ts"].dtype)

def process(msg):
    return dict(pairflow.state)
'''

R_JOB = '''
setup <- function(ctx) {
  bars <- pairflow_history("bars.1m", symbol = "S003")
  pairflow_state$n <- nrow(bars)
  pairflow_state$mean <- mean(bars$close)
  pairflow_state$ts_class <- class(bars$ts)[1]
}
process <- function(msg) list(n = pairflow_state$n, mean = pairflow_state$mean,
                              ts_class = pairflow_state$ts_class)
'''


def test_python_and_r_jobs_read_history(recorded, tmp_path):
    out, db = recorded
    closes = [b["close"] for b in jsonl(out / "bars.1m.jsonl") if b["symbol"] == "S003"]
    (tmp_path / "h.py").write_text(PY_JOB)
    (tmp_path / "h.R").write_text(R_JOB)
    for job in ("h.py", "h.R"):
        r = subprocess.run([PAIRFLOW, "job", "run", job, "--in", "-", "--out", "-", "--history",
                            str(db)], input='{"ts":1}\n', capture_output=True, text=True,
                           cwd=tmp_path, timeout=120)
        assert r.returncode == 0, r.stderr
        got = json.loads(r.stdout.splitlines()[0])
        assert got["n"] == len(closes), job
        assert got["mean"] == pytest.approx(sum(closes) / len(closes), rel=1e-12), job
        if job == "h.py":
            assert got["late"] == len(closes) - 100
            assert got["ts_type"] == "datetime64[ns, UTC]"
        else:
            assert got["ts_class"] == "POSIXct"
    # Without a history file: the job fails at setup with one line that says what to do.
    env = {k: v for k, v in os.environ.items() if k != "PAIRFLOW_HISTORY"}
    r = subprocess.run([PAIRFLOW, "job", "run", "h.py", "--in", "-", "--out", "-"],
                       input='{"ts":1}\n', capture_output=True, text=True, cwd=tmp_path, env=env,
                       timeout=120)
    assert r.returncode == 2 and "no history file: pass db=FILE" in r.stderr, r.stderr


@pytest.mark.heavy
def test_restarted_trader_warms_up_from_history_and_decides_as_if_it_never_stopped(tmp_path):
    ticks = tmp_path / "all.csv"
    run("gen", "--out", str(ticks), "--symbols", "16", "--pairs", "2", "--sessions", "4",
        "--seed", "11", "--config", DEMO_TOML)
    lines = ticks.read_text().splitlines()
    days = sorted({line[:10] for line in lines[1:]})
    cut = days[2]
    (tmp_path / "part1.csv").write_text("\n".join([lines[0]] + [x for x in lines[1:]
                                                               if x[:10] < cut]) + "\n")
    (tmp_path / "part2.csv").write_text("\n".join([lines[0]] + [x for x in lines[1:]
                                                               if x[:10] >= cut]) + "\n")
    trader = f'''
[[job]]
name = "trader"
builtin = "trader"
in = "ticks"
out = "summary"
params = {{ config = "{DEMO_TOML}", set = ["discovery.top_k=2"]{{extra}} }}
'''
    (tmp_path / "never_stopped.toml").write_text(
        '[source]\nkind = "csv"\npath = "all.csv"\n' + trader.replace("{extra}", ""))
    (tmp_path / "first.toml").write_text(
        '[source]\nkind = "csv"\npath = "part1.csv"\n' + trader.replace("{extra}", "") + '''
[[job]]
name = "history"
builtin = "history"
in = "ticks"
out = "history.out"
params = { db = "h.db" }
''')
    (tmp_path / "restarted.toml").write_text(
        'history = "h.db"\n[source]\nkind = "csv"\npath = "part2.csv"\n' +
        trader.replace("{extra}", ', warmup = "all"'))
    (tmp_path / "cold.toml").write_text(
        '[source]\nkind = "csv"\npath = "part2.csv"\n' + trader.replace("{extra}", ""))
    for name in ("never_stopped", "first", "restarted", "cold"):
        run("run", f"{name}.toml", "--out-dir", name, cwd=tmp_path)
    def published(name, topic):
        path = tmp_path / name / f"{topic}.jsonl"
        return path.read_text().splitlines() if path.exists() else []

    restart_ts = json.loads(published("restarted", "ticks")[0])["ts"]
    for topic in ("pairs.control", "pairs.signals", "orders"):
        whole, after = published("never_stopped", topic), published("restarted", topic)
        # What the restarted trader published is exactly what the one that never stopped
        # published after the same point (pairs.control may hold nothing after it: the pairs
        # found before the restart stay active).
        assert whole[len(whole) - len(after):] == after, topic
        assert after or topic == "pairs.control", topic
        if not after:  # then the one that never stopped changed nothing after the restart either
            assert all(json.loads(m)["ts"] < restart_ts for m in whole), topic
    # Without the warm-up the restart trades differently (it first re-learns the pairs).
    cold = (tmp_path / "cold" / "pairs.signals.jsonl").read_text().splitlines()
    warm = (tmp_path / "restarted" / "pairs.signals.jsonl").read_text().splitlines()
    assert cold != warm


def test_pair_actors_moved_to_a_fresh_instance_warm_up_from_history(make_cluster, tmp_path):
    """The Kafka pair_actors job: an instance that takes over pairs it holds no state for (a
    rebalance onto a fresh instance, a lost checkpoint) replays each pair's activation and routed
    bars from the history store and then trades exactly as an instance that never stopped; without
    the warm-up it has no activation for those pairs and counts their bars instead of trading."""
    wide = tmp_path / "wide.csv"
    run("gen", "--format", "bars", "--out", str(wide), "--symbols", "6", "--pairs", "2",
        "--sessions", "2", "--seed", "4")
    controls, bars = pair_bar_messages(wide)
    cut = len(bars) // 2
    c = make_cluster("pairs.control:1,bars.1m:3,pairs.bars:2,signals.ref:2,signals.warm:2,"
                     "signals.cold:2,dlq.router:1,dlq.ref:1,dlq.warm:1,dlq.cold:1,dlq.history:1,"
                     "history.out:1")
    c.produce("pairs.control", controls)
    actors = ''.join(f'''
[[job]]
name = "{name}"
builtin = "pair_actors"
in = "pairs.bars"
out = "signals.{name}"
params = {{ window = 60{extra} }}
''' for name, extra in (("ref", ""), ("cold", ""),
                          ("warm", ', warmup = "all", history = "h.db"')))
    (tmp_path / "p.toml").write_text('''
external_topics = ["pairs.control", "bars.1m"]
''' + ROUTER_JOB + '''
[[job]]
name = "history"
builtin = "history"
in = "pairs.bars"
out = "history.out"
params = { db = "h.db" }
''' + actors)

    def run_job(job, *extra):
        r = run("run", "p.toml", "--job", job, "--brokers", c.bootstrap, "--idle-exit", "3",
                *extra, cwd=tmp_path, timeout=120)
        return metrics_of(r.stderr)

    run_job("router")  # the activations first, as live
    c.produce("bars.1m", bars[:cut])
    run_job("router")
    run_job("history")  # the recorder of pairs.bars, running beside the actors
    for job in ("warm", "cold"):  # the first owners of the pairs see the first half
        assert "bars_without_activation" not in run_job(job)["user"]
    first = {job: len(c.consume(f"signals.{job}")) for job in ("warm", "cold")}
    c.produce("bars.1m", bars[cut:])
    run_job("router")
    run_job("history")  # (it may run ahead of the actors: warm-up reads up to the live bar)
    run_job("ref")  # one instance that never stopped
    # New instances of the same groups, without their predecessors' state: they continue from
    # the groups' committed offsets.
    warm = run_job("warm", "--instance", "1")
    cold = run_job("cold", "--instance", "1")
    assert warm["user"]["warmup_messages"] > 0 and "bars_without_activation" not in warm["user"]
    assert cold["user"]["bars_without_activation"] == cold["consumed"]
    for job in ("ref", "warm", "cold", "router", "history"):
        assert c.consume(f"dlq.{job}") == [], job

    def by_pair(topic):
        out = {}
        for k, v in c.consume(topic):
            out.setdefault(k, []).append(v)
        return out

    ref, got = by_pair("signals.ref"), by_pair("signals.warm")
    assert set(ref) == {"0", "1"} and sum(map(len, ref.values())) > first["warm"]
    assert got == ref  # first owner's signals, then the warmed-up successor's: as if one instance
    assert len(c.consume("signals.cold")) == first["cold"]  # the cold successor never traded


def test_history_job_on_kafka_survives_kill_9_mid_batch(make_cluster, tmp_path):
    """The sink commits rows before its input position: killed in the middle of a batch, the
    restarted job stores every message exactly once, and bad rows go to dlq.history."""
    c = make_cluster("ticks:2,bars.1m:2,dlq.history:1,history.out:1")
    p = tmp_path / "p.toml"
    p.write_text(f'''
external_topics = ["bars.1m"]

[source]
kind = "generator"
config = "{DEMO_TOML}"
set = {json.dumps(SMALL)}

[[job]]
name = "history"
builtin = "history"
in = ["ticks", "bars.1m"]
out = "history.out"
params = {{ db = "h.db", batch_rows = 3000 }}
''')
    r = subprocess.run([PAIRFLOW, "run", str(p), "--job", "source", "--brokers", c.bootstrap],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    bars = [(f"S{i:03d}", json.dumps({"ts": i * 60_000_000_000, "symbol": f"S{i:03d}",
                                      "open": 1, "high": 2, "low": 0.5, "close": 1.5,
                                      "volume": 10})) for i in range(50)]
    bad = [("S001", '{"ts":1,"symbol":"S001","open":1,"high":2,"low":0.5,"close":"x",'
                    '"volume":10}'),
           ("S002", json.dumps({"ts": 2, "symbol": "S002", "open": 1, "high": 2, "low": 0.5,
                                "close": 1, "volume": 1, "venue": "x" * 5000})),
           ("S003", "not json")]
    c.produce("bars.1m", bars + bad)
    ticks = len(c.consume("ticks"))
    args = [PAIRFLOW, "run", str(p), "--job", "history", "--brokers", c.bootstrap,
            ]
    env = dict(os.environ, PAIRFLOW_CRASH_AT="history_row:40000")
    killed = subprocess.run(args + ["--idle-exit", "5"], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path, env=env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    rows_before = sqlite3.connect(tmp_path / "h.db").execute(
        "SELECT count(*) FROM ticks").fetchone()[0]
    assert 0 < rows_before < 40000  # committed batches survived; the open one did not
    out, err = finish(subprocess.Popen(args + ["--idle-exit", "3"], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, cwd=tmp_path))
    m = metrics_of(err)
    assert m["restored"] is True
    topics = {t["topic"]: t["rows"] for t in json.loads(
        run("history", "topics", "--db", str(tmp_path / "h.db"), "--json").stdout)}
    assert topics == {"ticks": ticks, "bars.1m": 50}  # every message once, none twice
    letters = [json.loads(v) for _, v in c.consume("dlq.history")]
    # Dead letters are at-least-once: the killed run's may repeat after the restart.
    reasons = {d["error"].split(":")[0] for d in letters}
    assert reasons == {"malformed", "string_too_long", "type_conflict"}, letters


# --- VictoriaMetrics -------------------------------------------------------------------------

class VictoriaMetrics:
    def __init__(self, workdir):
        self.port = free_port()
        self.data = os.path.join(workdir, "vm-data")
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [VM, f"-httpListenAddr=127.0.0.1:{self.port}", f"-storageDataPath={self.data}",
             "-retentionPeriod=100y", "-loggerLevel=ERROR", "-search.latencyOffset=0s",
             "-search.disableCache"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("victoria-metrics did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)  # a graceful stop: it flushes what it accepted
        self.proc.wait(timeout=30)

    def export(self, match):
        urllib.request.urlopen(self.url + "/internal/force_flush", timeout=10).read()
        data = urllib.parse.urlencode({"match[]": match}).encode()
        body = urllib.request.urlopen(self.url + "/api/v1/export", data=data, timeout=30).read()
        return [json.loads(line) for line in body.decode().splitlines() if line]

    def points(self, match):
        """(labels without __name__ as a sorted tuple, metric, timestamp ms) -> [values]"""
        out = {}
        for series in self.export(match):
            labels = tuple(sorted((k, v) for k, v in series["metric"].items() if k != "__name__"))
            for ts, v in zip(series["timestamps"], series["values"]):
                out.setdefault((labels, series["metric"]["__name__"], ts), []).append(v)
        return out

    def points_when(self, match, done, timeout=30):
        """points(match) once done(points) holds: an accepted write becomes searchable after a
        flush that VictoriaMetrics may finish later than /internal/force_flush returns under
        load (seen on a loaded 2-core CI machine: the first export came back empty)."""
        deadline = time.time() + timeout
        while True:
            got = self.points(match)
            if done(got) or time.time() > deadline:
                return got
            time.sleep(0.2)


@pytest.fixture
def vm(tmp_path):
    server = VictoriaMetrics(str(tmp_path))
    server.start()
    yield server
    if server.proc.poll() is None:
        server.stop()


def test_pipeline_round_trips_through_victoria_metrics(vm, tmp_path):
    p = tmp_path / "p.toml"
    p.write_text(f'''
[source]
kind = "generator"
config = "{DEMO_TOML}"
set = {json.dumps(SMALL)}

[[job]]
name = "bars"
builtin = "bars"
in = "ticks"
out = "bars.1m"

[[job]]
name = "trader"
builtin = "trader"
in = "ticks"
out = "summary"
params = {{ config = "{DEMO_TOML}", set = {json.dumps(SMALL + ["discovery.top_k=2"])} }}

[[job]]
name = "execution"
builtin = "execution"
in = ["orders", "ticks"]
out = "execution.summary"
params = {{ config = "{DEMO_TOML}", set = {json.dumps(SMALL)} }}

[[job]]
name = "influx"
builtin = "influx"
in = ["bars.1m", "pnl", "positions", "pairs.signals", "executions"]
out = "influx.out"
params = {{ url = "{vm.url}/api/v2/write?org=o&bucket=b", spool = "spool", batch_points = 2000 }}
''')
    r = run("run", str(p), "--out-dir", "out", cwd=tmp_path)
    assert "dead letters 0" in r.stdout
    out = tmp_path / "out"
    bars = jsonl(out / "bars.1m.jsonl")
    got = vm.points_when('{__name__=~"bars_.*"}', lambda g: len(g) >= len(bars) * 7)
    assert len(got) == len(bars) * 7  # open high low close volume vwap count
    for b in bars:
        labels = (("symbol", b["symbol"]), ("topic", "bars.1m"))
        for field in ("open", "high", "low", "close", "volume", "vwap", "count"):
            # VictoriaMetrics keeps 12 significant digits (its storage format).
            assert got[(labels, f"bars_{field}", b["ts"] // 1_000_000)] == \
                [pytest.approx(b[field], rel=1e-11)]
    pnl = jsonl(out / "pnl.jsonl")
    equity = vm.points_when('{__name__="pnl_equity"}', lambda g: len(g) >= len(pnl))
    assert sorted(v[0] for v in equity.values()) == \
        pytest.approx(sorted(x["equity"] for x in pnl), rel=1e-11)
    fills = [e for e in jsonl(out / "executions.jsonl") if e["status"] == "filled"]
    prices = vm.points_when('{__name__="executions_price"}',
                            lambda g: sum(map(len, g.values())) >= len(fills))
    assert sum(len(v) for v in prices.values()) == len(fills)
    n_signals = len(jsonl(out / "pairs.signals.jsonl"))
    signals = vm.points_when('{__name__="signals_z"}',
                             lambda g: sum(map(len, g.values())) >= n_signals)
    assert sum(len(v) for v in signals.values()) == n_signals
    assert not os.listdir(tmp_path / "spool" / "rejected")


def influx_pipeline(tmp_path, url, params=""):
    p = tmp_path / "influx.toml"
    p.write_text(f'''
external_topics = ["custom"]

[source]
kind = "generator"

[[job]]
name = "influx"
builtin = "influx"
in = "custom"
out = "influx.out"
params = {{ url = "{url}", spool = "spool", batch_points = 100, batch_interval = "50ms", max_backoff = "200ms"{params} }}
''')
    return p


def custom_points(start, n):
    """n messages on `custom` with awkward tags and strings (escaping) and a number per point."""
    out = []
    for i in range(start, start + n):
        sym = ["plain", "with space", "comma,here", "eq=sign", 'quote"d'][i % 5]
        out.append((sym, json.dumps({"ts": 1_700_000_000_000_000_000 + i * 1_000_000,
                                     "symbol": sym, "v": i,
                                     "note": 'say "hi", a=b c\\d', "ok": i % 2 == 0})))
    return out


def wait_for(predicate, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def spool_files(tmp_path):
    d = tmp_path / "spool"
    return [f for f in os.listdir(d) if f.endswith((".lp", ".lp.gz"))] if d.exists() else []


def test_influx_outage_spools_blocks_when_full_and_delivers_every_point_once(
        make_cluster, vm, tmp_path):
    c = make_cluster("custom:2,influx.out:1,dlq.influx:1")
    p = influx_pipeline(tmp_path, vm.url + "/write", ", gzip = false, spool_max_mb = 1")
    job = subprocess.Popen([PAIRFLOW, "run", str(p), "--job", "influx", "--brokers",
                            c.bootstrap],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=tmp_path)
    try:
        c.produce("custom", custom_points(0, 2000))
        count = lambda: sum(len(v) for v in vm.points('{__name__="custom_v"}').values())  # noqa
        wait_for(lambda: count() == 2000, what="the first 2000 points")
        vm.stop()
        # The server is away: batches go to the spool, then the spool fills and the job stops
        # consuming (its consumer group falls behind) instead of dropping anything.
        c.produce("custom", custom_points(2000, 30000))
        wait_for(lambda: len(spool_files(tmp_path)) > 0, what="spooled batches")
        wait_for(lambda: sum(os.path.getsize(tmp_path / "spool" / f)
                             for f in spool_files(tmp_path)) > 900_000,
                 timeout=120, what="a full spool")
        time.sleep(1)
        spooled = len(spool_files(tmp_path))
        assert spooled * 100 < 30000  # blocked: the rest is still in Kafka, not in memory
        vm.start()  # same port, same storage
        try:
            wait_for(lambda: count() >= 32000, timeout=180, what="every point after the outage")
        except AssertionError:
            job.send_signal(signal.SIGTERM)
            out, err = job.communicate(timeout=60)
            raise AssertionError(f"{count()} points of 32000; spool {spool_files(tmp_path)[:5]}; "
                                 f"job exit {job.returncode}: {err[-3000:]}")
        wait_for(lambda: not spool_files(tmp_path), what="an empty spool")
    finally:
        job.send_signal(signal.SIGTERM)
        out, err = job.communicate(timeout=60)
    assert job.returncode == 0, err
    assert "spooling" in err and "spool full and server away" in err, err
    got = vm.points('{__name__="custom_v"}')
    values = sorted(v for vs in got.values() for v in vs)
    assert values == list(range(32000))  # every point exactly once: none lost, none doubled
    # Escaped tags arrive intact; string fields (dropped by VictoriaMetrics) did not break lines.
    symbols = {dict(k[0])["symbol"] for k in got}
    assert symbols == {"plain", "with space", "comma,here", "eq=sign", 'quote"d'}
    ok = vm.points('{__name__="custom_ok"}')
    assert sum(len(v) for v in ok.values()) == 32000
    m = metrics_of(err)
    assert m["user"]["batches_replayed"] > 0 and m["user"]["state.connected"] == 1
    assert m["user"]["points_sent"] == 32000


def test_influx_refuses_a_bad_url_and_counts_bad_messages(make_cluster, vm, tmp_path):
    p = influx_pipeline(tmp_path, "https://example.invalid/write")
    c = make_cluster("custom:1,influx.out:1,dlq.influx:1")
    r = subprocess.run([PAIRFLOW, "run", str(p), "--job", "influx", "--brokers", c.bootstrap,
                        "--idle-exit", "1"], capture_output=True, text=True, cwd=tmp_path,
                       timeout=60)
    assert r.returncode == 2 and "must start with http://" in r.stderr, r.stderr
    p = influx_pipeline(tmp_path, vm.url + "/write")
    c.produce("custom", [("k", '{"ts":1,"v":1}'), ("k", '{"ts":"soon","v":2}'), ("k", "[1]"),
                         ("k", json.dumps({"ts": 2, "t": "x" * 5000}))])
    out, err = finish(subprocess.Popen(
        [PAIRFLOW, "run", str(p), "--job", "influx", "--brokers", c.bootstrap, "--idle-exit",
         "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path))
    reasons = sorted(json.loads(v)["error"].split(":")[0] for _, v in c.consume("dlq.influx"))
    assert reasons == ["malformed", "no_event_time", "string_too_long"]
    assert metrics_of(err)["user"]["points_sent"] == 1


@pytest.mark.heavy
def test_the_example_pipeline_records_its_topics(tmp_path):
    run("run", os.path.join(ROOT, "examples", "history.toml"), "--out-dir", "out", cwd=tmp_path)
    topics = {t["topic"]: t for t in json.loads(
        run("history", "topics", "--db", str(tmp_path / "history.db"), "--json").stdout)}
    assert set(topics) == set(RECORDED)
    assert topics["bars.1m"]["rows"] == len(jsonl(tmp_path / "out" / "bars.1m.jsonl"))
