"""Where a server's time goes under load: py-spy samples of the server process while wrk saturates `/`.

    python -m bench.pyspy [--seconds 3] [NAME ...]

Needs py-spy (`pip install py-spy`; it reads the process's memory, so root or
ptrace permission). Samples every thread's Python stack (idle ones excluded) at
250 Hz and sums them: by the package of the innermost frame (self time), by what
the stack passes through (inclusive: the trio guest, the health wrapper), and the
hottest innermost functions. Samples of trio's guest I/O thread blocked in epoll_wait
(it uses no CPU; py-spy does not always see it as idle) are left out.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import sigterm
from bench.servers import Server

PYSPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
PACKAGES = ("asyncio", "uvloop", "hypercorn", "h11", "h2", "trio", "anyio", "uvicorn", "httptools", "resync_fsm",
            "tests", "sniffio", "outcome", "contextvars", "selectors", "socket", "ssl")
INCLUSIVE = {
    "trio (the guest run, the runner)": ("trio/",),
    "resync_fsm's health wrapper": ("resync_fsm/web/",),
    "resync_fsm's runner": ("resync_fsm/runner/",),
    "h11 (HTTP parsing)": ("h11/",),
    "the app": ("tests/e2e/apps.py",),
}


def available() -> bool:
    return os.path.exists(PYSPY)


def package_of(frame: str) -> str:
    """'func (path/to/file.py:12)' -> the package the file belongs to."""
    where = frame.rsplit("(", 1)[-1]
    for package in PACKAGES:
        if f"{package}/" in where or where.startswith(f"{package}.py") or f"/{package}.py" in where:
            return package
    if "<frozen" in where or "(<" in frame:
        return "frozen/builtins"
    return where.split(":", 1)[0].rsplit("/", 1)[-1]


def profile(argv: list[str], ready_path: str, seconds: float = 3.0) -> dict[str, object]:
    """Samples of the server under wrk (50 connections): shares by package, inclusive shares, top leaves."""
    pin = sigterm.PIN
    server = Server((["taskset", "-c", "0"] if pin else []) + argv, ready_path)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.txt"
        try:
            server.start()
            assert server.process is not None
            wrk = subprocess.Popen([*(["taskset", "-c", "1"] if pin else []), "wrk", "-t1", "-c50",
                                    f"-d{int(seconds) + 3}s", f"http://127.0.0.1:{server.port}/"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            subprocess.run([PYSPY, "record", "--format", "raw", "-o", str(raw), "-d", str(int(seconds)), "-r", "250",
                            "-p", str(server.process.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=seconds + 30, check=True)
            wrk.terminate()
            wrk.wait(timeout=10)
        finally:
            server.stop()
        lines = raw.read_text().splitlines()
    by_package: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")
        if "threading.py" in stack and "get_events" in frames[-1]:
            idle += count  # the guest run's I/O thread, blocked in epoll_wait: no CPU
            continue
        total += count
        by_package[package_of(frames[-1])] += count
        leaves[frames[-1]] += count
        for name, needles in INCLUSIVE.items():
            if any(needle in stack for needle in needles):
                inclusive[name] += count
    def share(counts: collections.Counter[str]) -> dict[str, float]:
        return {k: v / max(total, 1) for k, v in counts.most_common()}

    return {"samples": total, "idle": idle, "package": share(by_package), "inclusive": {k: inclusive[k] / max(total, 1)
                                                                          for k in INCLUSIVE},
            "leaves": share(leaves)}


if __name__ == "__main__":
    from bench.loop_servers import loop_variants
    from bench.loops import CONNECTIONS  # noqa: F401 - same load as the tables

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    for name, (argv, path) in loop_variants().items():
        if args.names and name not in args.names:
            continue
        result = profile(argv, path, args.seconds)
        print(f"{name}: {result['samples']} samples")
        print("  self time by package:", ", ".join(f"{k} {v:.0%}" for k, v in list(result["package"].items())[:8]))  # type: ignore[union-attr]
        print("  inclusive:", ", ".join(f"{k} {v:.0%}" for k, v in result["inclusive"].items()))  # type: ignore[union-attr]
        for leaf, v in list(result["leaves"].items())[:8]:  # type: ignore[union-attr]
            print(f"    {v:5.1%}  {leaf}")
