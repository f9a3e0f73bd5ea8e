"""Full garbage-collection pauses while serving under load: resync_fsm against bare Hypercorn.

    python -m bench.gcpause [--trials 4] [--seconds 6]

A full (generation 2) collection stops the server for as long as it walks every
tracked object. resync_fsm imports more than bare Hypercorn (structlog,
transitions, its own modules), so it freezes what start-up built (gc.freeze)
before it listens. Each server runs with bench/gchook on PYTHONPATH, which logs
every full collection's duration as it happens.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench.from_tests import free_port
from bench.load import load
from bench.servers import ROOT, status_of, variants

HOOK = Path(__file__).resolve().parent / "gchook"
NAMES = ("resync_fsm", "Hypercorn --workers 0")


def one(name: str, seconds: float) -> list[float]:
    argv, path = variants()[name]
    port = free_port()
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{HOOK}", "RESYNC_FSM_BENCH_GC_LOG": log.name}
        process = subprocess.Popen([a.replace("{port}", str(port)) for a in argv], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while status_of(port, path) != 200:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{name} did not start")
                time.sleep(0.005)
            before = len(Path(log.name).read_text().split())  # collections during start-up don't count
            load(port, seconds=seconds)
            pauses = [float(v) for v in Path(log.name).read_text().split()[before:]]
        finally:
            process.kill()
            process.wait()
    return pauses


def run(trials: int = 4, seconds: float = 6.0) -> dict[str, list[float]]:
    """name -> durations (ms) of every full collection during the loads, all trials together."""
    pauses: dict[str, list[float]] = {name: [] for name in NAMES}
    for _ in range(trials):
        for name in NAMES:
            pauses[name] += one(name, seconds)
    return pauses


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    for name, values in run(args.trials, args.seconds).items():
        shown = f"max {max(values):.1f} ms" if values else "none"
        print(f"{name:24s} {len(values)} full collections under load, {shown}: {sorted(round(v, 1) for v in values)}")
