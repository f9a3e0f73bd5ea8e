"""SIGTERM → first 503 on /readyz, while a closed-loop load saturates the server.

    python -m bench.sigterm [--trials 20] [--quick]

One trial: start the server (pinned to CPU 0 when taskset exists), saturate `/` with
wrk (50 keep-alive connections, pinned to CPU 1), poll /readyz on a connection of its
own (keep-alive, one request at a time, the poller thread on CPU 1); send SIGTERM and
record the time from kill() to the first response that is not a 200 (a 503; a closed
connection or refused connect is recorded as such, it would count as "not ready" to a
balancer too). The poll round trip before the signal is kept: it is the resolution
of the measurement, since a saturated server answers the poll after the requests
queued before it.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import threading
import time

from bench.servers import PY, Server

CONNECTIONS = 50
PIN = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


class Poller(threading.Thread):
    """GET /readyz in a loop on one keep-alive connection; bounded in time and count."""

    def __init__(self, port: int, limit: float = 10.0, max_requests: int = 200_000) -> None:
        super().__init__(daemon=True)
        self.port, self.limit, self.max_requests = port, limit, max_requests
        self.seen: list[tuple[float, float, str]] = []  # (sent, answered, "200" | "503" | "closed" | "refused")
        self.stop = threading.Event()

    def run(self) -> None:
        if PIN:
            os.sched_setaffinity(0, {1})  # this thread only
        end = time.perf_counter() + self.limit
        request = b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
        sock: socket.socket | None = None
        buffer = b""
        while not self.stop.is_set() and time.perf_counter() < end and len(self.seen) < self.max_requests:
            sent = time.perf_counter()
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", self.port), timeout=2.0)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    buffer = b""
                sock.sendall(request)
                while True:
                    head, sep, rest = buffer.partition(b"\r\n\r\n")
                    if sep:
                        length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                        if len(rest) >= length:
                            buffer = rest[length:]
                            break
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise ConnectionResetError
                    buffer += chunk
                self.seen.append((sent, time.perf_counter(), head[9:12].decode()))
            except ConnectionRefusedError:
                self.seen.append((sent, time.perf_counter(), "refused"))
                time.sleep(0.001)
            except OSError:
                self.seen.append((sent, time.perf_counter(), "closed"))
                if sock is not None:
                    sock.close()
                sock = None
        if sock is not None:
            sock.close()


def one(argv: list[str], *, saturate: float = 0.5, after: float = 2.0,
        killed_at: list[float] | None = None) -> tuple[float | None, str, float]:
    """(seconds from kill() to the first non-200 on /readyz or None, what it was, median poll round trip);
    ``killed_at`` gets the perf_counter() of the kill."""
    server = Server((["taskset", "-c", "0"] if PIN else []) + argv, "/readyz")
    server.start()
    assert server.process is not None
    pin = ["taskset", "-c", "1"] if PIN else []
    wrk = subprocess.Popen([*pin, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{math.ceil(saturate + after + 2)}s",
                            f"http://127.0.0.1:{server.port}/"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    poller = Poller(server.port, limit=saturate + after + 2)
    try:
        time.sleep(saturate / 2)
        poller.start()
        time.sleep(saturate / 2)
        killed = time.perf_counter()
        server.process.send_signal(signal.SIGTERM)
        if killed_at is not None:
            killed_at.append(killed)
        deadline = killed + after
        first: tuple[float, float, str] | None = None
        while time.perf_counter() < deadline and first is None:
            time.sleep(0.005)
            first = next((s for s in list(poller.seen) if s[1] >= killed and s[2] != "200"), None)
        before = [answered - sent for sent, answered, status in poller.seen if answered < killed and status == "200"]
        rtt = statistics.median(before) if before else float("nan")
    finally:
        poller.stop.set()
        wrk.terminate()
        wrk.wait(timeout=10)
        poller.join(timeout=5)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    if first is None:
        return None, "none", rtt
    return first[1] - killed, first[2], rtt


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def measure(variants: dict[str, list[str]], trials: int) -> dict[str, dict[str, float | str]]:
    """Interleaved trials; per variant: p50, p99 and max (ms), misses, what the first non-200 was, poll RTT."""
    samples: dict[str, list[tuple[float | None, str, float]]] = {name: [] for name in variants}
    for _ in range(trials):
        for name, argv in variants.items():
            samples[name].append(one(argv))
    out: dict[str, dict[str, float | str]] = {}
    for name, results in samples.items():
        got = [r[0] * 1000 for r in results if r[0] is not None]
        kinds = sorted({r[1] for r in results})
        rtts = [r[2] * 1000 for r in results if r[2] == r[2]]
        out[name] = {
            "p50": statistics.median(got) if got else float("nan"),
            "p99": percentile(got, 99) if got else float("nan"),
            "max": max(got) if got else float("nan"),
            "n": len(results), "missing": len(results) - len(got), "kinds": "/".join(kinds),
            "rtt": statistics.median(rtts) if rtts else float("nan"),
        }
    return out


def resync_argv(loop: str | None, drain_delay: float = 0.5) -> list[str]:
    """The real CLI on Hypercorn on ``loop`` (beside bare Hypercorn, as before the auto default); ``None``:
    no engine or loop option, the default path (issue 25: Uvicorn on uvloop here)."""
    chosen = ["--engine", "hypercorn", "--loop", loop] if loop else []
    return [PY, "-m", "resync_fsm", "--app", "tests.e2e.apps:hello_app", "--bind", "127.0.0.1:{port}",
            *chosen, "--drain-delay", str(drain_delay), "--log-format", "json", "--log-level", "warning"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--loops", default="asyncio,uvloop,trio")
    args = parser.parse_args()
    results = measure({f"resync_fsm --loop {loop}": resync_argv(loop) for loop in args.loops.split(",")}, args.trials)
    for name, r in results.items():
        print(f"{name:28s} p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms  max {r['max']:6.1f} ms  "
              f"({r['n']} trials, {r['missing']} without a 503; first non-200: {r['kinds']}; "
              f"poll round trip under load {r['rtt']:.1f} ms)")
