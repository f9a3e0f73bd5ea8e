"""Issue 5's promise: behind a balancer that lags 0.5 s, a drain loses nothing."""

from __future__ import annotations

import signal
from pathlib import Path

import trio

from ..drainload import drain_under_load
from .apps import REQUEST_SECONDS
from .cli import running

ROOT = str(Path(__file__).resolve().parents[2])
DRAIN_DELAY = 1.0


async def test_every_request_completes_while_draining(server_env: dict[str, str]) -> None:
    async with running("--app", "tests.e2e.apps:slow_app", "--bind", "127.0.0.1:0",
                       "--drain-delay", str(DRAIN_DELAY), cwd=ROOT, **server_env) as cli:
        url = await cli.url()
        host, port = url.removeprefix("http://").rsplit(":", 1)
        exited = trio.Event()

        async def watch_exit() -> None:
            await cli.process.wait()
            exited.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch_exit)
            report = await drain_under_load(host, int(port), lambda: cli.signal(signal.SIGTERM),
                                            lambda: exited, clients=24, lag=0.5)
        assert await cli.wait() == 0

    assert report.outcomes["ok"] >= 24 * 2  # the load was real: every client, several requests
    # and it went on after the signal: with staggered clients, about one request each
    assert report.after_signal["ok"] >= 12, report.after_signal
    assert set(report.outcomes) == {"ok"}, report.outcomes  # none refused, none cut
    assert report.first_503 is not None and report.first_503 <= 0.1, report.readiness[:20]
    assert report.exited_at is not None
    assert report.exited_at <= DRAIN_DELAY + REQUEST_SECONDS + 0.5, report.exited_at
