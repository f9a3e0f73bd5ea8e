"""Issue 24, item 13, with worker processes: ``/status`` counts every request at once (not at the next
heartbeat), ``draining`` says how many requests the workers have in flight, and a SIGHUP during a reload
is queued (one more reload follows), not dropped, while a third is covered by the queued one."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import trio

from .cli import LIMIT, running
from .test_workers import WORKERS, _write_app, get

REQUESTS = 30
SLOW = 3  # requests in flight at the drain


async def test_status_counts_every_request_at_once() -> None:
    async with running("--app", "tests.e2e.apps:pid_app", *WORKERS) as cli:
        url = await cli.url()
        for _ in range(REQUESTS):
            assert (await get(url))[0] == 200
        status = json.loads((await get(url, "/status"))[1])
        assert sum(worker["requests"] for worker in status["workers"]) == REQUESTS, status["workers"]
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0


async def test_draining_says_what_the_workers_have_in_flight() -> None:
    async with running("--app", "tests.e2e.apps:slow_app", *WORKERS, "--graceful-timeout", "5") as cli:
        url = await cli.url()
        host, port = url.removeprefix("http://").rsplit(":", 1)
        streams = []
        for _ in range(SLOW):
            stream = await trio.open_tcp_stream(host, int(port))
            await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            streams.append(stream)
        with trio.fail_after(LIMIT):
            while json.loads((await get(url, "/status"))[1])["in_flight"] < SLOW:  # noqa: ASYNC110
                await trio.sleep(0.01)  # another process: nothing to wait on
        cli.signal(signal.SIGTERM)
        draining = await cli.wait_event("draining")
        assert await cli.wait() == 0
        for stream in streams:
            await stream.aclose()
    assert draining["in_flight"] == SLOW


async def test_a_sighup_during_a_reload_is_queued_once(tmp_path: Path) -> None:
    _write_app(tmp_path / "reloadable.py", "v1")
    async with running("--app", "reloadable:app", "--app-dir", str(tmp_path), *WORKERS,
                       PYTHONDONTWRITEBYTECODE="1") as cli:
        await cli.url()
        cli.signal(signal.SIGHUP)
        await cli.wait_event("reload_started", generation=2)
        _write_app(tmp_path / "reloadable.py", "v3")
        cli.signal(signal.SIGHUP)  # during the reload: queued
        await cli.wait_event("reload_queued")
        cli.signal(signal.SIGHUP)  # one is queued already: it covers this one
        await cli.wait_event("reload_ignored")
        await cli.wait_event("reload_finished", generation=3)
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    started = [e["generation"] for e in cli.events if e.get("event") == "reload_started"]
    assert started == [2, 3]
