"""The Celery half of bench/fleet.sh: the same no-op workload as the fbs half, on Celery 5
with a Redis broker.

As the worker's app (``celery -A celery_bench worker``): one task, ``bench.noop``, that notes
the submit time it was given, its own start time and its end time as one line in
``$CELERY_BENCH_OUT/times-<pid>.txt`` (one file per pool process, appended with one write(2)
each, so the recording costs no broker round trip). A ``ready`` file appears when the worker is
ready.

As a script (``python celery_bench.py N [TIMEOUT_SECS [RATE]]``): submits N tasks with
``task.delay`` (RATE > 0: that many per second, else as fast as possible), waits until all N have run, and prints one line with the same keys and rules as the fbs half
(``crates/worker/examples/fleet_bench.rs``): total from the first submission to the last
completion, latency = start - submit, nearest-rank percentiles.

Not part of the service.
"""

import glob
import math
import os
import sys
import time

from celery import Celery
from celery.signals import worker_ready

OUT = os.environ["CELERY_BENCH_OUT"]

app = Celery("celery_bench", broker=os.environ["CELERY_BENCH_BROKER"])
app.conf.update(
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)

_fd = None


def _out():
    global _fd
    if _fd is None:
        path = os.path.join(OUT, "times-%d.txt" % os.getpid())
        _fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    return _fd


@app.task(name="bench.noop")
def noop(submitted):
    started = time.time()
    os.write(_out(), b"%.6f %.6f %.6f\n" % (submitted, started, time.time()))


@worker_ready.connect
def _ready(**_):
    with open(os.path.join(OUT, "ready"), "w") as f:
        f.write("ready\n")


def _rows():
    rows = []
    for path in glob.glob(os.path.join(OUT, "times-*.txt")):
        with open(path) as f:
            for line in f:
                if line.endswith("\n"):
                    rows.append(tuple(float(x) for x in line.split()))
    return rows


def _pct(v, q):
    if not v:
        return float("nan")
    rank = math.ceil(q * len(v))
    return v[min(max(rank, 1), len(v)) - 1]


def main():
    n = int(sys.argv[1])
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 600.0
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    submits = []
    t0 = time.monotonic()
    for i in range(n):
        if rate > 0:
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        t = time.time()
        submits.append(t)
        noop.delay(t)
    deadline = time.time() + timeout
    while True:
        rows = _rows()
        if len(rows) >= n:
            break
        if time.time() > deadline:
            sys.exit("celery_bench: timed out: %d of %d tasks ran" % (len(rows), n))
        time.sleep(0.1)
    first_submit, last_submit = min(submits), max(submits)
    first_start = min(r[1] for r in rows)
    last_finish = max(r[2] for r in rows)
    lat = sorted((r[1] - r[0]) * 1000.0 for r in rows)
    total = last_finish - first_submit
    submit_s = last_submit - first_submit
    print(
        "system=celery n=%d ok=%d failed=0 submit_s=%.3f total_s=%.3f jobs_per_s=%.1f "
        "submit_per_s=%.1f drain_per_s=%.1f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f"
        % (
            len(rows),
            len(rows),
            submit_s,
            total,
            len(rows) / total,
            len(rows) / max(submit_s, 0.001),
            len(rows) / max(last_finish - first_start, 0.001),
            _pct(lat, 0.50),
            _pct(lat, 0.99),
            lat[-1],
        )
    )


if __name__ == "__main__":
    main()
