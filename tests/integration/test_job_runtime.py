"""The job runtime against a mock Kafka cluster, checked with kcat as an independent client."""
import json
import os
import signal
import subprocess
import time

from conftest import LIB, ROOT, finish, metrics_of

ECHO = os.path.join(LIB, "echo_job.so")
PASSTHROUGH = os.path.join(ROOT, "examples", "jobs", "passthrough.py")


def inputs(n, keys=10):
    return [(f"sym{i % keys}", json.dumps({"id": i})) for i in range(n)]


def test_cpp_job_transforms_a_topic_and_dead_letters_garbage(make_cluster):
    c = make_cluster("in:4,out:4,dlq.echo:1")
    c.produce("in", inputs(300) + [("bad", "garbage, not json")])
    out, err = finish(c.job(ECHO, "--in", "in", "--out", "out", "--name", "echo", "--idle-exit", "2"))
    outputs = c.consume("out")
    assert len(outputs) == 300
    seen = {}
    for key, value in outputs:
        msg = json.loads(value)
        assert msg["in_key"] == key == f"sym{msg['id'] % 10}"  # the key travels with the message
        seen[msg["id"]] = seen.get(msg["id"], 0) + 1
    assert seen == {i: 1 for i in range(300)}
    dlq = c.consume("dlq.echo")
    assert len(dlq) == 1
    record = json.loads(dlq[0][1])
    assert record["payload"] == "garbage, not json"
    assert record["error"] == "not a JSON object"
    assert record["topic"] == "in" and record["key"] == "bad"
    m = metrics_of(err)
    assert m["processed"] == 300 and m["dead_lettered"] == 1


def test_status_records_report_state_counters_and_lag(make_cluster):
    """--status-topic: the runner's status records while a job works through a backlog - the
    consumer lag from the backlog down to 0, counters that only grow, 'stopped' at the end."""
    c = make_cluster("in:2,out:2,dlq.echo:1,jobs.status:1")
    c.produce("in", inputs(600))
    finish(c.job(ECHO, "--in", "in", "--out", "out", "--name", "echo", "--batch", "20",
                 "--checkpoint-interval", "0.05", "--param", "delay_us=1000", "--idle-exit", "2",
                 "--status-topic", "jobs.status"))
    status = c.consume("jobs.status")
    assert {k for k, _ in status} == {"echo@pairflow.echo"}
    records = [json.loads(v) for _, v in status]
    lags = [r["lag"] for r in records]
    assert max(lags) > 0 and lags[-1] == 0, lags
    consumed = [r["metrics"]["consumed"] for r in records]
    assert consumed == sorted(consumed) and consumed[-1] == 600
    assert records[-1]["state"] == "stopped" and records[-1]["metrics"]["produced"] == 600
    assert len(c.consume("out")) == 600  # status records are not outputs


def test_kill_9_then_restart_loses_nothing(make_cluster):
    c = make_cluster("in:4,out:4,dlq.echo:1")
    c.produce("in", inputs(2000))
    args = ["--in", "in", "--out", "out", "--name", "echo", "--batch", "20",
            "--checkpoint-interval", "0.05"]
    slow = c.job(ECHO, *args, "--param", "delay_us=5000")
    c.wait_for("out", 300)
    slow.send_signal(signal.SIGKILL)
    slow.wait(timeout=10)
    first = len(c.consume("out"))
    assert first < 2000, "the job finished before it could be killed"
    out, err = finish(c.job(ECHO, *args, "--idle-exit", "2"))
    m = metrics_of(err)
    assert m["restored"] is True  # state restored and recover() ran
    ids = [json.loads(v)["id"] for _, v in c.consume("out")]
    assert set(ids) == set(range(2000))  # every input has its output
    duplicates = len(ids) - 2000
    # At-least-once: only messages processed after the last checkpoint before the kill repeat.
    assert 0 <= duplicates <= 200, duplicates
    everything = [json.loads(v) for _, v in c.consume("out")]
    restarted = [r for r in everything if r["recovered"]]
    assert len(restarted) == len(everything) - first  # every later output came after recover()
    assert min(r["seq"] for r in restarted) > 1  # the counter resumed from the checkpoint


def test_state_on_kafka_survives_moving_to_another_machine(make_cluster, tmp_path):
    """With --checkpoint kafka:TOPIC the restarted instance finds its state from any directory."""
    import subprocess
    from conftest import PAIRFLOW
    c = make_cluster("in:2,out:2,dlq.echo:1,checkpoints:1")
    c.produce("in", inputs(1000))
    args = ["--in", "in", "--out", "out", "--name", "echo", "--batch", "20",
            "--checkpoint-interval", "0.05", "--checkpoint", "kafka:checkpoints"]
    slow = c.job(ECHO, *args, "--param", "delay_us=5000")
    c.wait_for("out", 200)
    slow.send_signal(signal.SIGKILL)
    slow.wait(timeout=10)
    elsewhere = tmp_path / "other_machine"
    elsewhere.mkdir()
    r = subprocess.run([PAIRFLOW, "job", "run", ECHO, "--brokers", c.bootstrap, *args,
                        "--idle-exit", "2"], cwd=elsewhere, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert metrics_of(r.stderr)["restored"] is True
    # Nothing local was needed: the state came from Kafka. The only local file is the crash guard
    # of the running process (what it is processing; docs/jobs.md), no checkpoint.
    assert [p.name for p in (elsewhere / ".pairflow").iterdir()] == ["echo.pairflow.echo.inflight"]
    ids = [json.loads(v)["id"] for _, v in c.consume("out")]
    assert set(ids) == set(range(1000))
    assert len(ids) - 1000 <= 200
    assert len(c.consume("checkpoints")) >= 2


def test_sigterm_flushes_and_checkpoints_so_restart_repeats_nothing(make_cluster):
    c = make_cluster("in:2,out:2,dlq.echo:1")
    c.produce("in", inputs(1500))
    args = ["--in", "in", "--out", "out", "--name", "echo", "--batch", "10"]
    slow = c.job(ECHO, *args, "--param", "delay_us=5000")
    c.wait_for("out", 200)
    slow.send_signal(signal.SIGTERM)
    out, err = slow.communicate(timeout=30)
    assert slow.returncode == 0, err
    assert metrics_of(err)["processed"] < 1500
    finish(c.job(ECHO, *args, "--idle-exit", "2"))
    ids = [json.loads(v)["id"] for _, v in c.consume("out")]
    assert sorted(ids) == list(range(1500))  # exactly once across a clean stop


def test_two_instances_in_a_group_split_the_work(make_cluster):
    c = make_cluster("in:4,out:4,dlq.echo:1,checkpoints:1")
    args = ["--in", "in", "--out", "out", "--name", "echo", "--group", "g", "--idle-exit", "16"]
    # Both keep their state on one Kafka checkpoint topic, each under its own instance's key.
    a = c.job(ECHO, *args, "--instance", "a", "--checkpoint", "kafka:checkpoints")
    b = c.job(ECHO, *args, "--instance", "b", "--checkpoint", "kafka:checkpoints")
    time.sleep(10)  # both join the group and get their partitions before any input exists
    c.produce("in", inputs(400, keys=40))
    _, err_a = finish(a)
    _, err_b = finish(b)
    ma, mb = metrics_of(err_a), metrics_of(err_b)
    assert ma["processed"] > 0 and mb["processed"] > 0
    assert ma["processed"] + mb["processed"] == 400
    ids = sorted(json.loads(v)["id"] for _, v in c.consume("out"))
    assert ids == list(range(400))  # together exactly the outputs of a single instance
    keys = set(subprocess.run(["kcat", "-b", c.bootstrap, "-C", "-t", "checkpoints", "-e", "-q",
                               "-f", "%k\n"], capture_output=True, check=True,
                              timeout=60).stdout.decode().splitlines())
    assert {"echo@g#a", "echo@g#b"} <= keys, keys  # neither instance overwrote the other's


def test_event_time_merge_releases_a_silent_partition_after_max_idle(make_cluster):
    """--event-time-order merges the input partitions by event time; a partition with nothing
    buffered holds the others back until it has been read to its end and silent for --max-idle,
    then stops holding them; what it delivers later, older than what already went out, still
    reaches the job (which judges it: passthrough passes it on) - nothing is lost."""
    c = make_cluster("in:2,out:1,dlq.passthrough:1")

    def put(partition, ts):
        subprocess.run(["kcat", "-b", c.bootstrap, "-P", "-t", "in", "-p", str(partition), "-K",
                        "\t"], input=f"k{partition}\t{json.dumps({'ts': ts})}\n", text=True,
                       check=True, timeout=60)

    put(0, 100)
    put(0, 300)
    put(1, 200)
    job = c.job(PASSTHROUGH, "--in", "in", "--out", "out", "--event-time-order",
                "--max-idle", "300")
    try:
        # 300 waits behind partition 1 (empty after 200) until it has been silent for 300 ms:
        # were it never released, this would time out.
        c.wait_for("out", 3)
        assert [json.loads(v)["ts"] for _, v in c.consume("out")] == [100, 200, 300]
        put(1, 250)  # late: 300 went out already
        put(0, 400)
        c.wait_for("out", 5)
        assert [json.loads(v)["ts"] for _, v in c.consume("out")] == [100, 200, 300, 250, 400]
        job.send_signal(signal.SIGTERM)
        _, err = job.communicate(timeout=30)
        assert job.returncode == 0, err
        m = metrics_of(err)
        assert m["processed"] == 5 and m["dead_lettered"] == 0
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()


def test_stdin_stdout_pipe_without_kafka(tmp_path):
    import subprocess
    from conftest import PAIRFLOW
    lines = "\n".join(json.dumps({"x": i}) for i in range(5)) + "\nnot json\n"
    r = subprocess.run([PAIRFLOW, "job", "run", ECHO, "--in", "-", "--out", "-"], input=lines,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o.get("x") for o in out[:5]] == list(range(5))
    assert out[5]["topic"] == "dlq.echo_job" and out[5]["value"]["payload"] == "not json"


def test_bad_job_file_fails_at_start_with_one_line(tmp_path):
    import subprocess
    from conftest import PAIRFLOW
    r = subprocess.run([PAIRFLOW, "job", "run", str(tmp_path / "missing.py"), "--in", "-", "--out", "-"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "missing.py: no such job file" in r.stderr
