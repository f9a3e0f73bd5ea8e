"""Where SIGTERM → /readyz 503 goes under saturating load: bench/sigterm.py's trial, timestamped inside the server.

    python -m bench.sigtrace [--trials 20] [--loops asyncio,uvloop,trio]

Runs resync_fsm through bench/traced.py and splits each trial's latency into:
kill → Python signal handler runs, → the runner's watcher (on_signal), → drain applied
(readiness false), → /readyz first answers 503, → the poller receives it; and lists
full collections that overlapped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from bench import sigterm
from bench.common import precompile
from bench.servers import PY

STEPS = ("handler", "on_signal", "apply", "first_503")


def trial(loop: str) -> dict[str, float]:
    argv = sigterm.resync_argv(loop)
    argv = [PY, "-m", "bench.traced", *argv[3:]]  # argv[:3] is `python -m resync_fsm`
    with tempfile.NamedTemporaryFile("r", suffix=".trace") as trace:
        os.environ["RESYNC_FSM_BENCH_TRACE"] = trace.name
        try:
            killed: list[float] = []
            latency, kind, rtt = sigterm.one(argv, killed_at=killed)
        finally:
            del os.environ["RESYNC_FSM_BENCH_TRACE"]
        marks: dict[str, float] = {}
        gcs = []
        for line in Path(trace.name).read_text().splitlines():
            name, at, *rest = line.split()
            if name == "gc":
                gcs.append((float(rest[0]), float(rest[1])))
            else:
                marks.setdefault(name, float(at))
    k = killed[0]
    out = {"total": (latency or float("nan")) * 1000, "rtt": rtt * 1000}
    previous = k
    for step in STEPS:
        if step in marks:
            out[step] = (marks[step] - previous) * 1000
            previous = marks[step]
    out["delivery"] = out["total"] - (previous - k) * 1000
    window_end = k + (latency or 2.0)
    out["gc_ms"] = sum(ms for start, ms in gcs if k - 0.05 <= start <= window_end)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--loops", default="asyncio,uvloop,trio")
    args = parser.parse_args()
    precompile()
    loops = args.loops.split(",")
    results: dict[str, list[dict[str, float]]] = {loop: [] for loop in loops}
    for _ in range(args.trials):
        for loop in loops:
            results[loop].append(trial(loop))
    columns = ("total", "handler", "on_signal", "apply", "first_503", "delivery", "gc_ms", "rtt")
    print("ms: " + " ".join(f"{c:>9s}" for c in columns))
    for loop, rows in results.items():
        print(f"== {loop}")
        for row in sorted(rows, key=lambda r: -r["total"])[:6]:
            print("    " + " ".join(f"{row.get(c, float('nan')):9.1f}" for c in columns))
        print("  median " + " ".join(f"{statistics.median(r.get(c, float('nan')) for r in rows):9.1f}"
                                     for c in columns))


if __name__ == "__main__":
    main()
