"""Instructions per request, counted by valgrind's callgrind: what resync_fsm adds, without the noise.

    python -m bench.instructions [--requests 2000] [--write docs/benchmarks.md]

Each server runs under ``valgrind --tool=callgrind`` on loopback; after it answers
and 200 warm-up requests, the counters are zeroed (``callgrind_control -z``), N
``GET /`` requests of ``tests.e2e.apps:hello_app`` go over 10 keep-alive
connections, and the counters are dumped (``callgrind_control -d``). Instructions
executed are the same for the same binary and inputs whatever else the machine
does (the servers run with ``PYTHONHASHSEED=0``, so that dict layouts are too),
so the ratio is the steady measure of the work resync_fsm adds per request
(wall-clock requests/s and CPU time on this shared machine vary by several percent
between runs). It counts work, not time: cache misses and the kernel's socket
calls are not in it. Needs valgrind (``apt-get install valgrind``); a few minutes.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from bench.common import write_section
from bench.servers import APP, PY, Server

HEADING = "## Instructions per request"
RESYNC = [PY, "-m", "resync_fsm", "--app", APP, "--bind", "127.0.0.1:{port}", "--log-format", "json",
          "--log-level", "warning"]
PAIRS = {  # (resync_fsm argv, its readiness path), (the bare server's argv, "/")
    "Hypercorn, asyncio": ((RESYNC + ["--engine", "hypercorn", "--loop", "asyncio"], "/readyz"),
                           ([PY, "-m", "hypercorn", "--worker-class", "asyncio", "--workers", "0",
                             "--bind", "127.0.0.1:{port}", APP], "/")),
    "Hypercorn, uvloop": ((RESYNC + ["--engine", "hypercorn", "--loop", "uvloop"], "/readyz"),
                          ([PY, "-m", "hypercorn", "--worker-class", "uvloop", "--workers", "0",
                            "--bind", "127.0.0.1:{port}", APP], "/")),
    "Uvicorn, uvloop + httptools": ((RESYNC + ["--engine", "uvicorn", "--loop", "uvloop"], "/readyz"),
                                    ([PY, "-m", "uvicorn", "--loop", "uvloop", "--http", "httptools",
                                      "--no-access-log", "--log-level", "warning", "--host", "127.0.0.1",
                                      "--port", "{port}", APP], "/")),
}


# what each app's answer to `GET /` ends with (the client reads until it)
ENDS = {APP: b"hello", "bench.fastapi_app:app": b'"world"}'}


def _requests(port: int, n: int, connections: int = 10, ends: bytes = b"hello") -> None:
    request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    clients = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(connections)]
    try:
        for _ in range(n // connections):
            for client in clients:
                client.sendall(request)
            for client in clients:
                answer = b""
                while not answer.endswith(ends):
                    chunk = client.recv(4096)
                    if not chunk:
                        raise RuntimeError("the server closed the connection")
                    answer += chunk
    finally:
        for client in clients:
            client.close()


def per_request(argv: list[str], ready_path: str, n: int, app: str = APP) -> float:
    """Instructions the server executes per request (``n`` requests of ``app``, one of :data:`ENDS`, after a
    warm-up); ``argv`` serves ``app`` (``{app}`` in it is replaced)."""
    argv = [arg.replace("{app}", app) for arg in argv]
    ends = ENDS[app]
    with tempfile.TemporaryDirectory() as tmp:
        # one hash seed: str hashes, and so dict layouts, the same in every run (±400 instructions without)
        server = Server(["valgrind", "--tool=callgrind", f"--callgrind-out-file={Path(tmp) / 'callgrind.out'}",
                         *argv], ready_path, env={"PYTHONHASHSEED": "0"})
        try:
            server.start(limit=180.0)  # the interpreter under valgrind starts some 50 times slower
            assert server.process is not None
            _requests(server.port, 200, ends=ends)
            subprocess.run(["callgrind_control", "-z", str(server.process.pid)], capture_output=True, check=True)
            _requests(server.port, n, ends=ends)
            subprocess.run(["callgrind_control", "-d", str(server.process.pid)], capture_output=True, check=True)
        finally:
            if server.process is not None:
                server.stop(limit=120.0)
        dumped = next(Path(tmp).glob("callgrind.out.*"))
        summary = next(line for line in dumped.read_text().splitlines() if line.startswith("summary:"))
        return int(summary.split()[1]) / n


def report(requests: int = 2000, only: str | None = None) -> str:
    """The section: per pair (those whose name contains ``only``), instructions per request of resync_fsm
    and of the bare server, and the ratio."""
    if shutil.which("valgrind") is None:
        return f"{HEADING}\n\nNot measured: valgrind is not installed.\n"
    rows = []
    for name, ((ours, ours_path), (bare, bare_path)) in PAIRS.items():
        if only is not None and only.lower() not in name.lower():
            continue
        print(f"{name} ...", flush=True)
        mine, theirs = per_request(ours, ours_path, requests), per_request(bare, bare_path, requests)
        rows.append(f"| {name} | {mine:,.0f} | {theirs:,.0f} | {mine / theirs:.3f} | {theirs / mine:.3f} |")
    return (f"{HEADING}\n\n`python -m bench.instructions --requests {requests}`: each server under valgrind's "
            f"callgrind, {requests} `GET /` of `{APP}` over 10 keep-alive connections after 200 warm-up requests, "
            "instructions counted between `callgrind_control -z` and `-d` (deterministic: the same on a busy or "
            "an idle machine). The last column is what requests/s would be, relative to the bare server, if "
            "both ran at the same instructions per cycle.\n\n"
            "| server | resync_fsm | bare | ratio | bare / resync_fsm |\n|---|---|---|---|---|\n"
            + "\n".join(rows) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--write", metavar="FILE", help="replace or append the section in FILE")
    parser.add_argument("--only", metavar="TEXT", help="only the pairs whose name contains TEXT (e.g. uvicorn)")
    args = parser.parse_args()
    section = report(args.requests, args.only)
    print(section)
    if args.write:
        write_section(Path(args.write), HEADING, section)
