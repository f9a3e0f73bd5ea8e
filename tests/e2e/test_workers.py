"""Worker processes (issue 17), through the real CLI: supervision, crash loops, SIGHUP reload and recycling."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from ..certs import make_certs
from .cli import LIMIT, Cli, running

WORKERS = ("--workers", "2", "--bind", "127.0.0.1:0", "--expose-status", "true")


async def get(url: str, path: str = "/") -> tuple[int, str]:
    """One request on a fresh connection (``Connection: close``): ``(status, body)``; raises on a cut."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    stream = await trio.open_tcp_stream(host, int(port))
    async with stream:
        with trio.fail_after(5):
            await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := await stream.receive_some(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), data[:80]
    return int(head[9:12]), body.decode()


class Load:
    """Closed-loop clients on fresh connections until stopped; every outcome kept (body or error)."""

    def __init__(self, url: str, clients: int = 4) -> None:
        self.url, self.clients = url, clients
        self.bodies: Counter[str] = Counter()
        self.failures: list[str] = []
        self.stop, self.done = trio.Event(), trio.Event()
        self.prefix, self.seen = "", trio.Event()  # set once a body starting with prefix arrives

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            for _ in range(self.clients):
                nursery.start_soon(self._client)
        self.done.set()

    async def finish(self) -> None:
        """Stop starting requests and wait for those in flight."""
        self.stop.set()
        with trio.fail_after(LIMIT):
            await self.done.wait()

    async def _client(self) -> None:
        while not self.stop.is_set():
            try:
                status, body = await get(self.url)
            except (OSError, AssertionError, trio.BrokenResourceError, trio.TooSlowError) as exc:
                self.failures.append(repr(exc))
                continue
            if status == 200:
                self.bodies[body] += 1
                if self.prefix and body.startswith(self.prefix):
                    self.seen.set()
            else:
                self.failures.append(f"status {status}")

    @property
    def total(self) -> int:
        return sum(self.bodies.values()) + len(self.failures)


def worker_pids(cli: Cli, generation: int | None = None) -> set[int]:
    return {e["pid"] for e in cli.events if e.get("event") == "worker_serving"
            and (generation is None or e["generation"] == generation)}


async def test_two_workers_serve_and_a_killed_one_is_replaced() -> None:
    async with running("--app", "tests.e2e.apps:pid_app", *WORKERS) as cli:
        url = await cli.url()
        first = set((await cli.wait_event("workers_serving"))["pids"])
        assert len(first) == 2
        seen: set[int] = set()
        for _ in range(400):  # the kernel hands connections to whichever worker accepts first
            seen.add(int((await get(url))[1]))
            if seen == first:
                break
        assert seen == first
        victim, survivor = sorted(first)
        os.kill(victim, signal.SIGKILL)
        readiness: list[int] = []
        replaced = trio.Event()

        async def poll_readiness() -> None:
            while not replaced.is_set():
                readiness.append((await get(url, "/readyz"))[0])

        async with trio.open_nursery() as nursery:
            nursery.start_soon(poll_readiness)
            await cli.wait_for(lambda events: any(e.get("event") == "worker_serving" and e["pid"] not in first
                                                  for e in events))
            replaced.set()
        died = await cli.wait_event("worker_died", pid=victim)
        assert died["exit"] == "signal SIGKILL"
        assert set(readiness) == {200} and len(readiness) > 3
        status = (await get(url, "/status"))[1]
        workers = json.loads(status)["workers"]
        assert survivor in {w["pid"] for w in workers} and victim not in {w["pid"] for w in workers}
        assert sum(w["restarts"] for w in workers) == 1
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0


async def test_a_crash_looping_app_ends_in_exit_70_with_one_line() -> None:
    async with running("--app", "tests.e2e.apps:crash_app", *WORKERS,
                       RESYNC_FSM_SERVER_CRASH_LOOP_DEATHS="3") as cli:
        assert await cli.wait() == 70
    lines = cli.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "crash loop: 3 worker deaths" in lines[0] and "exit code 3" in lines[0], lines
    assert len([e for e in cli.events if e.get("event") == "worker_died"]) >= 3


def _write_app(path: Path, version: str, broken: bool = False) -> None:
    body = ("raise RuntimeError('a broken deploy')\n" if broken else
            "import os\n\n"
            "async def app(scope, receive, send):\n"
            "    if scope['type'] == 'lifespan':\n"
            "        while (await receive())['type'] != 'lifespan.shutdown':\n"
            "            await send({'type': 'lifespan.startup.complete'})\n"
            "        await send({'type': 'lifespan.shutdown.complete'})\n"
            "        return\n"
            f"    body = b'{version} %d' % os.getpid()\n"
            "    await send({'type': 'http.response.start', 'status': 200,\n"
            "                'headers': [(b'content-length', str(len(body)).encode())]})\n"
            "    await send({'type': 'http.response.body', 'body': body})\n")
    path.write_text(body)


async def _reloaded(cli: Cli, tmp_path: Path, version: str, *, broken: bool = False) -> dict[str, Any]:
    _write_app(tmp_path / "reloadable.py", version, broken=broken)
    cli.signal(signal.SIGHUP)
    return await cli.wait_event("reload_failed" if broken else "reload_finished")


@asynccontextmanager
async def reloadable(tmp_path: Path) -> AsyncIterator[tuple[Cli, str, set[int], Load]]:
    """The CLI serving tmp_path/reloadable.py (v1) on two workers, under closed-loop load until stopped."""
    _write_app(tmp_path / "reloadable.py", "v1")
    async with running("--app", "reloadable:app", "--app-dir", str(tmp_path), *WORKERS,
                       PYTHONDONTWRITEBYTECODE="1") as cli:
        url = await cli.url()
        old = set((await cli.wait_event("workers_serving"))["pids"])
        load = Load(url)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(load.run)
            yield cli, url, old, load


async def test_sighup_under_load_swaps_every_worker_and_loses_no_request(tmp_path: Path) -> None:
    async with reloadable(tmp_path) as (cli, url, old, load):
        load.prefix = "v1"
        await load.seen.wait()
        load.prefix, load.seen = "v2", trio.Event()
        finished = await _reloaded(cli, tmp_path, "v2")
        new = set(finished["pids"])
        with trio.fail_after(LIMIT):
            await load.seen.wait()
        await cli.wait_for(lambda events: len([e for e in events if e.get("event") == "worker_exited"]) == 2)
        await load.finish()
        assert not new & old and len(new) == 2
        assert load.failures == [] and load.total > 50
        served_by = {int(body.split()[1]) for body in load.bodies}
        assert new <= served_by and served_by <= old | new
        assert all(body.startswith("v2") for body in load.bodies if int(body.split()[1]) in new)
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0


async def _response(stream: trio.SocketStream, *, to_eof: bool) -> tuple[bytes, bytes]:
    """One response's ``(head, body)``: read to EOF (the server closes), or by its content-length."""
    data = b""
    with trio.fail_after(5):
        while True:
            head, _, body = data.partition(b"\r\n\r\n")
            if not to_eof and _ and len(body) >= int(head.lower().split(b"content-length: ")[1].split(b"\r")[0]):
                return head, body
            chunk = await stream.receive_some(65536)
            if not chunk:
                return head, body
            data += chunk


async def test_a_retired_worker_answers_every_connection_it_accepted_however_late_its_request(
        server_env: dict[str, str], request: pytest.FixtureRequest) -> None:
    if server_env.get("RESYNC_FSM_SERVER_LOOP") == "trio":
        request.applymarker(pytest.mark.xfail(
            reason="Hypercorn on trio stops accepting and closes idle connections at once "
                   "(resync_fsm.serving.workers.child)"))
    """A worker told to drain by a reload (or a recycle: the same drain) stops accepting, then answers
    each connection it had accepted, with ``Connection: close``: one whose request had not arrived
    (or been read) when the drain began, one with half a request head, an idle keep-alive one. Closing
    them instead resets a request the client sent: under load, the lost request of the test below."""
    async with running("--app", "tests.e2e.apps:pid_app", *WORKERS, **server_env) as cli:
        url = await cli.url()
        old = set((await cli.wait_event("workers_serving"))["pids"])
        host, port = url.removeprefix("http://").rsplit(":", 1)
        request = f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        silent = [await trio.open_tcp_stream(host, int(port)) for _ in range(4)]
        halves = [await trio.open_tcp_stream(host, int(port)) for _ in range(4)]
        for stream in halves:
            await stream.send_all(request[:20])
        kept = await trio.open_tcp_stream(host, int(port))
        await kept.send_all(request)
        head, body = await _response(kept, to_eof=False)
        assert head.startswith(b"HTTP/1.1 200") and int(body) in old and b"connection: close" not in head.lower()
        await get(url)  # accepted after all of the above (one listening socket, a FIFO queue): all are old workers'
        cli.signal(signal.SIGHUP)
        await cli.wait_for(lambda events: {e["pid"] for e in events if e.get("event") in (
            "worker_retiring", "worker_stopped")} >= old)  # stopped: a drain that closed them (the bug)
        answers = []
        for stream, rest in [*((s, request) for s in silent), *((s, request[20:]) for s in halves), (kept, request)]:
            async with stream:
                try:
                    await stream.send_all(rest)
                    answers.append(await _response(stream, to_eof=True))
                except trio.BrokenResourceError as exc:
                    answers.append((repr(exc).encode(), b""))
        assert [(h[:12], b"connection: close" in h.lower(), int(b or 0) in old) for h, b in answers] == (
            [(b"HTTP/1.1 200", True, True)] * 9), answers
        await cli.wait_for(lambda events: {e["pid"] for e in events if e.get("event") == "worker_exited"} >= old)
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0


async def test_a_failed_tls_handshake_does_not_hold_a_retiring_worker(tmp_path: Path, loop: str) -> None:
    """A connection whose TLS handshake failed never tells its protocol ``connection_lost``; a retiring
    worker must not wait for it (it would hold every recycle for graceful_timeout)."""
    if loop == "trio":
        return  # Hypercorn on trio: the retiring worker does not count connections (resync_fsm.serving.workers.child)
    certs = make_certs(tmp_path)
    async with running("--app", "tests.e2e.apps:pid_app", *WORKERS, "--certfile", str(certs.cert),
                       "--keyfile", str(certs.key), RESYNC_FSM_SERVER_LOOP=loop) as cli:
        old = set((await cli.wait_event("workers_serving"))["pids"])
        host, port = (await cli.url()).removeprefix("https://").rsplit(":", 1)
        for _ in range(6):
            async with await trio.open_tcp_stream(host, int(port)) as stream:
                await stream.send_all(b"GET / HTTP/1.1\r\n\r\n")  # not a TLS ClientHello
                with trio.fail_after(5):
                    while await stream.receive_some(65536):
                        pass
        cli.signal(signal.SIGHUP)
        await cli.wait_for(lambda events: {e["pid"] for e in events if e.get("event") == "worker_exited"} >= old)
        assert [e["connections"] for e in cli.events if e.get("event") == "worker_retiring"] == [0, 0]
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0


async def test_a_reload_to_a_broken_app_keeps_the_old_workers_serving(tmp_path: Path) -> None:
    async with reloadable(tmp_path) as (cli, url, old, load):
        failed = await _reloaded(cli, tmp_path, "v2", broken=True)
        await cli.wait_for(lambda events: len([e for e in events if e.get("generation") == 2 and e.get("event")
                                               in ("worker_died", "worker_exited")]) == 2)
        await load.finish()
        assert "a broken deploy" in failed["reason"] and failed["serving_generation"] == 1
        assert load.failures == [] and {int(body.split()[1]) for body in load.bodies} <= old
        assert (await get(url, "/readyz"))[0] == 200
        assert {w["pid"] for w in json.loads((await get(url, "/status"))[1])["workers"]} == old
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0


async def test_max_requests_recycles_workers_under_load_and_loses_no_request() -> None:
    async with running("--app", "tests.e2e.apps:pid_app", *WORKERS, "--max-requests", "40",
                       "--max-requests-jitter", "10") as cli:
        url = await cli.url()
        load = Load(url)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(load.run)
            await cli.wait_for(lambda events: len([e for e in events if e.get("event") == "worker_exited"]) >= 3)
            await load.finish()
        assert load.failures == []
        assert len({int(body) for body in load.bodies}) >= 4  # two workers and at least two replacements
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
