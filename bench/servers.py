"""Starting the servers under comparison on loopback, waiting until they answer, stopping them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.from_tests import free_port

ROOT = Path(__file__).resolve().parent.parent
APP = "tests.e2e.apps:hello_app"
PY = sys.executable
# `python -c` running a server's own CLI (module MAIN's main()) after `import trio`: the floor of any
# server whose lifecycle runs on trio, as resync_fsm's does on every loop (bench/run.py, bench/engines.py).
TRIO_FIRST = "import sys, trio; from {main} import main; sys.argv[0] = 'server'; sys.exit(main())"


def has_module(name: str) -> bool:
    return subprocess.run([PY, "-c", f"import {name}"], capture_output=True, check=False).returncode == 0


def variants(app: str = APP) -> dict[str, tuple[list[str], str]]:
    """name -> (argv with {port}, the path that answers 200 once ready)."""
    out = {
        # beside bare Hypercorn: resync_fsm on Hypercorn (the default path is bench/default.py's)
        "resync_fsm": ([PY, "-m", "resync_fsm", "--engine", "hypercorn", "--loop", "asyncio", "--app", app,
                        "--bind", "127.0.0.1:{port}", "--log-format", "json", "--log-level", "warning"], "/readyz"),
        "Hypercorn --workers 0": ([PY, "-m", "hypercorn", "--worker-class", "trio", "--workers", "0",
                                   "--bind", "127.0.0.1:{port}", app], "/"),
        "Hypercorn (1 worker process)": ([PY, "-m", "hypercorn", "--worker-class", "trio",
                                          "--bind", "127.0.0.1:{port}", app], "/"),
    }
    if has_module("uvicorn"):
        out["Uvicorn"] = ([PY, "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}",
                           "--log-level", "warning", app], "/")
    return out


def status_of(port: int, path: str) -> int | None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            head = sock.recv(64)
    except OSError:
        return None
    return int(head[9:12]) if head.startswith(b"HTTP/1.1 ") else None


class Server:
    """One server process on a free port; ``start()`` returns the seconds from spawn to its first 200."""

    def __init__(self, argv: list[str], ready_path: str, stderr: int = subprocess.DEVNULL,
                 env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.stderr = stderr
        self.env = env or {}  # added to the environment
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.ready_path = ready_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, limit: float = 20.0) -> float:
        started = time.perf_counter()
        self.process = subprocess.Popen(self.argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.stderr,
                                        env={**os.environ, "PYTHONPATH": str(ROOT), **self.env})
        while time.perf_counter() - started < limit:
            if status_of(self.port, self.ready_path) == 200:
                return time.perf_counter() - started
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.argv} exited with {self.process.returncode}")
            time.sleep(0.002)
        raise RuntimeError(f"{self.argv} not ready after {limit} s")

    def rss_mib(self) -> float:
        assert self.process is not None
        pids = [self.process.pid, *self._children()]
        total = 0
        for pid in pids:
            with open(f"/proc/{pid}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        return total / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes so far."""
        assert self.process is not None
        total = 0
        for pid in [self.process.pid, *self._children()]:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")

    def _children(self) -> list[int]:
        assert self.process is not None
        try:
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as children:
                return [int(pid) for pid in children.read().split()]
        except OSError:
            return []

    def stop(self, limit: float = 30.0) -> float:
        """SIGTERM; seconds until the process exited."""
        assert self.process is not None
        started = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return time.perf_counter() - started

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()


def time_to_ready(argv: list[str], ready_path: str) -> float:
    """Seconds from spawning one server to its first 200 on ``ready_path``; the server is stopped after."""
    server = Server(argv, ready_path)
    try:
        return server.start()
    finally:
        server.stop()
