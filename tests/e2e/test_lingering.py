"""Issue 23: a connection answered before its request's body was read closes without a reset eating the
answer, on every engine and loop (RFC 9112 §9.6; nginx's lingering close).

Each client here keeps sending after its early answer (:func:`.rawhttp.early_answer`): the head and
512 bytes of the body, then everything until the server closes, then the rest of the body. A server that
closes with the body still arriving resets the connection and the client fails while sending (on the
code before issue 23, a few in a thousand on Hypercorn, a sixth on Uvicorn). Bodies are 1 KiB to 1 MiB
(:func:`.rawhttp.body_sizes`: 48 MB for 1,000).
"""

from __future__ import annotations

import collections
import signal
import time
from urllib.parse import urlsplit

import httpx
import trio

from .cli import LIMIT, running
from .rawhttp import FIRST, body_sizes, early_answer
from .test_metrics import key, samples

CLIENTS = 20
REQUESTS = 1000
APP = ("--app", "tests.e2e.apps:early_app", "--bind", "127.0.0.1:0")


async def answers(port: int, path: str, sizes: list[int], *, chunked: bool = False,
                  first: int = FIRST) -> collections.Counter[str]:
    """What each of CLIENTS concurrent clients saw for ``sizes`` (one request each), counted."""
    seen: collections.Counter[str] = collections.Counter()
    todo = iter(sizes)

    async def client() -> None:
        for size in todo:
            seen[await early_answer(port, path, size, chunked=chunked, first=first)] += 1

    with trio.fail_after(4 * LIMIT):
        async with trio.open_nursery() as nursery:
            for _ in range(CLIENTS):
                nursery.start_soon(client)
    return seen


async def scrape(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with httpx.AsyncClient() as client:
        return samples((await client.get(base + "/metrics")).text)


async def test_every_early_500_reaches_its_client(server_env: dict[str, str]) -> None:
    async with running(*APP, **server_env) as cli:
        base = await cli.url()
        seen = await answers(urlsplit(base).port or 0, "/raise", body_sizes(REQUESTS))
        assert seen == {"500 close": REQUESTS}
        metrics = await scrape(base)
        assert metrics[key("resync_fsm_requests_total", method="POST", status_class="5xx")] == REQUESTS
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0


async def test_every_413_and_503_reaches_its_client(server_env: dict[str, str]) -> None:
    """A body over ``server.max_body_size`` (by Content-Length, or chunked and counted as the app reads
    it), then every request beyond ``server.limit_concurrency``: each client gets its answer."""
    async with running(*APP, "--max-body-size", "1000", "--limit-concurrency", str(CLIENTS + 1),
                       "--graceful-timeout", "5", **server_env) as cli:
        base = await cli.url()
        port = urlsplit(base).port or 0
        sizes = body_sizes(REQUESTS)
        declared = await answers(port, "/raise", sizes[: REQUESTS // 2])
        streamed = await answers(port, "/read", sizes[REQUESTS // 2:], chunked=True, first=1024)  # over 1000
        assert (declared + streamed) == {"413 close": REQUESTS}
        streams = [await trio.open_tcp_stream("127.0.0.1", port) for _ in range(CLIENTS + 1)]
        for stream in streams:
            await stream.send_all(b"GET /hold HTTP/1.1\r\nHost: test\r\n\r\n")
        async with httpx.AsyncClient() as client:
            with trio.fail_after(LIMIT):
                while (await client.post(base + "/raise", content=b"x")).status_code != 503:  # noqa: ASYNC110
                    await trio.sleep(0.01)  # the held requests reach the app in their own time
        refused = await answers(port, "/raise", sizes)
        assert refused == {"503 close": REQUESTS}
        metrics = await scrape(base)
        assert metrics[key("resync_fsm_requests_total", method="POST", status_class="4xx")] == REQUESTS
        assert metrics[key("resync_fsm_requests_total", method="POST", status_class="5xx")] >= REQUESTS
        for stream in streams:  # the held requests end
            await stream.aclose()
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0


async def test_a_client_that_never_stops_is_closed_within_the_lingering_bound(server_env: dict[str, str]) -> None:
    """After its early answer the client sends forever: the server closes it lingering_time after the
    answer; a SIGTERM while it lingers still exits within the drain budget."""
    async with running(*APP, "--graceful-timeout", "1", RESYNC_FSM_SERVER_LINGERING_TIME="1.5",
                       RESYNC_FSM_SERVER_LINGERING_SIZE=str(1 << 40), RESYNC_FSM_SERVER_SHUTDOWN_TIMEOUT="1",
                       **server_env) as cli:
        base = await cli.url()
        port = urlsplit(base).port or 0

        async def forever(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> float:
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                await stream.send_all(b"POST /raise HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000000\r\n\r\n")
                assert (await stream.receive_some(1 << 16)).startswith(b"HTTP/1.1 500")
                answered = time.monotonic()
                task_status.started()
                with trio.fail_after(LIMIT):
                    try:
                        while True:
                            await stream.send_all(b"x" * 4096)
                    except trio.BrokenResourceError:
                        return time.monotonic() - answered

        assert 1.2 <= await forever() < 1.5 + 3.0  # lingering_time (from the server's answer), and slack
        async with trio.open_nursery() as nursery:
            await nursery.start(forever)  # answered: it is sending into the lingering connection
            stopped = time.monotonic()
            cli.signal(signal.SIGTERM)
            assert await cli.wait() == 0
            assert time.monotonic() - stopped < 1 + 1 + 0.2 + 3.0  # graceful + shutdown + Uvicorn's pauses, slack
            nursery.cancel_scope.cancel()
