#!/usr/bin/python3
"""Dashboard benchmark: the pipeline's throughput with the dashboard serving 0 and 10 WebSocket
clients (each subscribed to every stream and reading everything), the updates per second the
clients receive, and `--no-ui` for reference. The same generated market each time; runs are
interleaved and repeated, medians printed. The pipeline times itself (the line "dashboard: the
pipeline ran N ticks in S s", from after --wait-clients to the end of the input)."""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time

import websocket

STREAMS = ["pnl", "positions", "pairs", "signals", "orders", "executions", "screener", "risk",
           "jobs"]


def run(pairflow, market, clients, tmp, pin):
    info = os.path.join(tmp, f"ui-{clients}.json")
    if os.path.exists(info):
        os.remove(info)
    cmd = [pairflow, "demo", "--port", "0", "--speed", "0", "--exit-at-end", "--ui-info", info,
           "--wait-clients", str(clients), *market]
    if pin:  # pairflow (pipeline and server threads) on CPU 0, the clients on CPU 1
        cmd = ["taskset", "-c", "0", *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp)
    while not os.path.exists(info):
        if proc.poll() is not None:
            raise SystemExit(proc.communicate()[1])
        time.sleep(0.01)
    meta = json.load(open(info))
    # The clients run in their own process at the lowest priority: on a 2-core machine they
    # would otherwise take a core from the pipeline, which real (remote) browsers do not.
    readers = None
    if clients:
        readers = subprocess.Popen([*(["taskset", "-c", "1"] if pin else []),
                                    "nice", "-n", "19", "/usr/bin/python3", __file__,
                                    "--read", meta["url"], meta["viewer_token"], str(clients)],
                                   stdout=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=600)
    counts, per_s = 0, 0.0
    if readers:
        got = json.loads(readers.communicate(timeout=60)[0])
        counts, per_s = got["messages"], got["per_s"]
    m = re.search(r"pipeline ran (\d+) ticks in ([\d.]+) s", out)
    if not m:
        raise SystemExit(f"no timing line in the output:\n{out}\n{err}")
    ticks, seconds = int(m.group(1)), float(m.group(2))
    return ticks / seconds, counts, per_s


def read(url, token, clients):
    """`clients` WebSocket clients subscribed to every stream, reading until the server goes."""
    counts = [0] * clients
    spans = [0.0] * clients

    def client(i):
        ws = websocket.create_connection(url.replace("http://", "ws://") + "api/stream?token=" +
                                         token)
        ws.send(json.dumps({"op": "subscribe", "streams": STREAMS}))
        t0 = time.perf_counter()
        try:
            while True:
                frame = json.loads(ws.recv())
                counts[i] += len(frame) if isinstance(frame, list) else 1
                spans[i] = time.perf_counter() - t0
        except Exception:
            pass

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"messages": sum(counts),
                      "per_s": sum(c / s for c, s in zip(counts, spans) if s > 0)}))


def no_ui(pairflow, market, tmp):
    t0 = time.perf_counter()
    subprocess.run([pairflow, "demo", "--no-ui", "--summary", os.path.join(tmp, "s.json"),
                    *market], capture_output=True, text=True, check=True, cwd=tmp)
    wall = time.perf_counter() - t0
    ticks = json.load(open(os.path.join(tmp, "s.json")))["ticks"]
    return ticks / wall


def main():
    import sys
    if len(sys.argv) == 5 and sys.argv[1] == "--read":
        return read(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairflow", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--symbols", type=int, default=100)
    args = ap.parse_args()
    market = ["--set", f"market.sessions={args.sessions}", "--set",
              f"market.symbols={args.symbols}"]
    results = {k: [] for k in ["none", "ui0", "ui10", "updates", "rate", "pin0", "pin10"]}
    pin = (os.cpu_count() or 1) >= 2
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.reps):
            results["none"].append(no_ui(args.pairflow, market, tmp))
            results["ui0"].append(run(args.pairflow, market, 0, tmp, False)[0])
            tput, updates, rate = run(args.pairflow, market, 10, tmp, False)
            results["ui10"].append(tput)
            results["updates"].append(updates)
            results["rate"].append(rate)
            if pin:
                results["pin0"].append(run(args.pairflow, market, 0, tmp, True)[0])
                results["pin10"].append(run(args.pairflow, market, 10, tmp, True)[0])
    med = {k: statistics.median(v) for k, v in results.items() if v}
    print(f"market: {args.symbols} symbols x {args.sessions} sessions, {args.reps} interleaved reps "
          "(medians)")
    print(f"  --no-ui (process wall time)      {med['none'] / 1e6:8.3f} M ticks/s")
    print(f"  dashboard, 0 clients             {med['ui0'] / 1e6:8.3f} M ticks/s")
    print(f"  dashboard, 10 clients            {med['ui10'] / 1e6:8.3f} M ticks/s  "
          f"({100 * (1 - med['ui10'] / med['ui0']):+.1f}% slower than 0 clients; target <= 5%)")
    if pin:
        print("  clients kept off the pipeline's CPU (taskset: pairflow on CPU 0, clients on CPU 1),")
        print("  as remote browsers would be:")
        print(f"    dashboard, 0 clients           {med['pin0'] / 1e6:8.3f} M ticks/s")
        print(f"    dashboard, 10 clients          {med['pin10'] / 1e6:8.3f} M ticks/s  "
              f"({100 * (1 - med['pin10'] / med['pin0']):+.1f}% slower than 0 clients; target <= 5%)")
    print(f"  updates delivered to 10 clients  {med['updates']:8.0f} messages, "
          f"{med['rate']:.0f} messages/s in all")


if __name__ == "__main__":
    main()
