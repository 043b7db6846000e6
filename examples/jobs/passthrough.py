"""Passes every message through, tagged with the job's name: the smallest pairflow job.

    pairflow job run examples/jobs/passthrough.py --in ticks --out ticks.tagged
"""
import pairflow

name = "passthrough"


def setup(ctx):
    global name
    name = ctx.name


def process(msg):
    msg["via"] = name
    return msg


def process_batch(cols):
    # Columnar fast path: same output, one call per batch.
    n = len(next(iter(cols.values()))) if cols else 0
    cols["via"] = [name] * n
    return cols
