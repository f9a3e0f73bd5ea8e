"""A rolling restart behind a real HAProxy on loopback (shared by the e2e test and bench/rolling.py).

Pieces: ``app`` (the ASGI app the replicas serve: it names the replica that
answered), ``haproxy()`` (HAProxy in the foreground with its own config file),
``Load`` (closed-loop clients through HAProxy that record every request) and
``roll()`` (restart the replicas one slot at a time, under that load).

Every wait is bounded (``LIMIT``), every client loop is bounded in time and count.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import attrs
import trio

LIMIT = 20.0  # real-time bound on any single wait
BODY = b"x" * 1000  # what every request to the app answers with
SLOW_SECONDS = 0.5  # GET /slow takes this long: requests in flight when a replica's listener closes
CHECK_INTER_MS = 100  # HAProxy checks each server this often; fall 1 rise 1: one check flips it


# --- the app the replicas serve -------------------------------------------------------------------


async def app(scope: Any, receive: Any, send: Any) -> None:
    """``/slow`` answers after SLOW_SECONDS, any other path at once; 200 with BODY, and
    ``x-replica: <pid>:<port>`` so a client knows which replica (process, slot) answered."""
    if scope["type"] == "lifespan":
        from resync_fsm.app import complete_lifespan

        await complete_lifespan(receive, send)
        return
    if scope["path"] == "/slow":
        await anyio.sleep(SLOW_SECONDS)
    replica = f"{os.getpid()}:{scope['server'][1]}".encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(BODY)).encode()),
                            (b"x-replica", replica)]})
    await send({"type": "http.response.body", "body": BODY})


APP = "tests.e2e.haproxy:app"


# --- HAProxy --------------------------------------------------------------------------------------


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if os.access(p, os.X_OK)), None)


def config(front: int, servers: Sequence[int], check_path: str) -> str:
    """Round robin over ``servers``; a server is routed to only while GET ``check_path`` answers 200.

    ``retries 0`` and no ``option redispatch``: a failed connect to a replica is a 503
    to the client, not silently retried elsewhere. ``option http-server-close``: every
    request opens its own connection to a replica, so every request meets the replica's
    listener as it is at that moment (a closed listener refuses it); keep-alive to the
    replicas would hide that behind already-open connections.
    """
    lines = [
        "global",
        "    maxconn 2048",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 10s",
        "    timeout server 10s",
        "    timeout check 1s",
        "    retries 0",
        "    option http-server-close",
        "frontend front",
        f"    bind 127.0.0.1:{front}",
        "    default_backend replicas",
        "backend replicas",
        "    balance roundrobin",
        "    option httpchk",
        f"    http-check send meth GET uri {check_path} ver HTTP/1.1 hdr host localhost",
        "    http-check expect status 200",
        f"    default-server inter {CHECK_INTER_MS}ms fall 1 rise 1",
        *(f"    server s{i} 127.0.0.1:{port} check" for i, port in enumerate(servers, 1)),
    ]
    return "\n".join(lines) + "\n"


async def wait_listening(port: int, process: trio.Process) -> None:
    with trio.fail_after(LIMIT):
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"exited with {process.returncode} before listening on {port}")
            try:
                stream = await trio.open_tcp_stream("127.0.0.1", port)
            except OSError:
                await trio.sleep(0.02)
            else:
                await stream.aclose()
                return


@asynccontextmanager
async def haproxy(workdir: Path, front: int, servers: Sequence[int], check_path: str) -> AsyncIterator[trio.Process]:
    """``haproxy -f cfg -db`` in the foreground, listening on 127.0.0.1:``front``; killed on exit."""
    exe = haproxy_binary()
    if exe is None:
        raise RuntimeError("haproxy is not installed (apt-get install haproxy; .ci/run does)")
    cfg = workdir / "haproxy.cfg"
    cfg.write_text(config(front, servers, check_path))
    log = os.open(workdir / "haproxy.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)  # its warnings, if any
    try:
        process = await trio.lowlevel.open_process([exe, "-f", str(cfg), "-db"], stdin=subprocess.DEVNULL,
                                                   stdout=log, stderr=log)
    finally:
        os.close(log)
    try:
        await wait_listening(front, process)
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        with trio.CancelScope(shield=True), trio.move_on_after(5):
            await process.wait()


# --- closed-loop load through HAProxy -------------------------------------------------------------


@attrs.frozen
class Request:
    started: float
    ended: float
    path: str
    outcome: str  # ok (200 with the full body), refused, cut (no full response), status (another status)
    status: int
    replica: str  # "pid:port" of the replica that answered, from x-replica


async def fetch(port: int, path: str, timeout: float = 10.0) -> tuple[str, int, str]:
    """One request on a fresh connection (``Connection: close``) to 127.0.0.1:``port``."""
    try:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
    except OSError:
        return "refused", 0, ""
    data = b""
    async with stream:
        try:
            with trio.fail_after(timeout):
                await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
                while chunk := await stream.receive_some(65536):
                    data += chunk
        except (trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError, OSError):
            return "cut", 0, ""
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")):
        return "cut", 0, ""
    status = int(head[9:12])
    replica = ""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-replica":
            replica = value.strip().decode()
    if status != 200:
        return "status", status, replica
    return ("ok" if body == BODY else "cut"), status, replica


class Load:
    """``clients`` closed loops through 127.0.0.1:``port``; every ``slow_every``-th client asks for
    ``/slow``, the others for ``/``. Each loop stops at ``stop()``, after ``duration`` seconds, or
    after ``max_requests`` requests, whichever comes first; every request is recorded."""

    def __init__(self, port: int, clients: int = 16, slow_every: int = 4,
                 duration: float = 60.0, max_requests: int = 20_000) -> None:
        self.port, self.clients, self.slow_every = port, clients, slow_every
        self.duration, self.max_requests = duration, max_requests
        self.requests: list[Request] = []
        self._stop_at = float("inf")
        self._seen = trio.Event()
        self.done = trio.Event()

    async def stop(self) -> None:
        """Start no more requests; wait (bounded) for those in flight to end."""
        self._stop_at = trio.current_time()
        with trio.fail_after(LIMIT):
            await self.done.wait()

    async def run(self) -> None:
        self._stop_at = min(self._stop_at, trio.current_time() + self.duration)
        try:
            async with trio.open_nursery() as nursery:
                for i in range(self.clients):
                    nursery.start_soon(self._client, "/slow" if i % self.slow_every == 0 else "/", i)
        finally:
            self.done.set()

    async def _client(self, path: str, i: int) -> None:
        await trio.sleep(0.005 * i)  # staggered, so the slow clients' phases spread out
        for _ in range(self.max_requests):
            started = trio.current_time()
            if started >= self._stop_at:
                return
            outcome, status, replica = await fetch(self.port, path)
            self.requests.append(Request(started, trio.current_time(), path, outcome, status, replica))
            if replica:
                self._seen.set()
                self._seen = trio.Event()

    async def served_by(self, port: int, exclude: set[str]) -> str:
        """Wait (bounded) until a response comes from a replica on ``port`` not in ``exclude``."""
        with trio.fail_after(LIMIT):
            while True:
                for request in reversed(self.requests):
                    if request.replica.endswith(f":{port}") and request.replica not in exclude:
                        return request.replica
                await self._seen.wait()

    async def ok_since(self, since: float, count: int) -> None:
        """Wait (bounded) until ``count`` requests started at or after ``since`` (trio clock) ended ok:
        the load has really gone on, without a sleep standing in for it."""
        with trio.fail_after(LIMIT):
            while self.outcomes(since=since)["ok"] < count:
                await self._seen.wait()

    def replicas(self, port: int) -> set[str]:
        return {r.replica for r in self.requests if r.replica.endswith(f":{port}")}

    def outcomes(self, since: float = float("-inf"), until: float = float("inf")) -> Counter[str]:
        return Counter(r.outcome for r in self.requests if since <= r.started < until)

    def lost(self) -> list[Request]:
        return [r for r in self.requests if r.outcome != "ok"]


# --- the rolling restart --------------------------------------------------------------------------


class Replica:
    """A started replica: how to stop it, and how to learn its exit code."""

    def __init__(self, terminate: Callable[[], None], wait: Callable[[], Awaitable[int]]) -> None:
        self.terminate, self.wait = terminate, wait


@attrs.define
class Step:
    port: int
    signalled: float  # SIGTERM to the old replica
    old_exit: int
    exited: float  # the old replica's exit
    routed: float  # the first response through HAProxy from the new one
    old: set[str]  # replica ids ("pid:port") seen on this slot before
    new: str


async def roll(load: Load, ports: Sequence[int], old: Sequence[Replica],
               start: Callable[[int], Awaitable[Replica]], settle: int = 32) -> tuple[list[Step], list[Replica]]:
    """For each slot in turn: SIGTERM the old replica, wait for its exit, start a new one on the
    same port, wait until HAProxy routes load to it and ``settle`` more requests have been served."""
    steps, new = [], []
    for port, replica in zip(ports, old, strict=True):
        seen = load.replicas(port)
        signalled = trio.current_time()
        replica.terminate()
        with trio.fail_after(LIMIT):
            code = await replica.wait()
        exited = trio.current_time()
        new.append(await start(port))
        replica_id = await load.served_by(port, seen)
        routed = trio.current_time()
        steps.append(Step(port, signalled, code, exited, routed, seen, replica_id))
        await load.ok_since(routed, settle)
    return steps, new


def sigterm(process: trio.Process) -> Callable[[], None]:
    return lambda: process.send_signal(signal.SIGTERM)
