"""The http probe against real loopback servers, and through httpx's MockTransport."""

from __future__ import annotations

import httpx
import pytest
import trio

from resync_fsm.compat import check_http
from resync_fsm.probes import ProbeBoard, ProbeFailure, open_attempt, probe_all
from resync_fsm.probes.http import attempt_http, open_http_client
from resync_fsm.settings import ProbeSpec
from resync_fsm.settings.parsers import status_spec

from ..servers import HttpRecorder, read_request, serving


def http(url: str, expect: str = "<500") -> ProbeSpec:
    return ProbeSpec(name="api", kind="http", url=url, expect_status=status_spec(expect))


async def test_405_to_head_200_to_get_is_healthy_and_uses_get() -> None:
    recorder = HttpRecorder({"HEAD": 405, "GET": 200}, default=405)
    async with serving(recorder) as port:
        async with open_http_client() as client:
            assert await attempt_http(http(f"http://127.0.0.1:{port}/v1"), client) == "GET answered 200"
        assert await check_http(f"http://127.0.0.1:{port}/v1") is True
    assert recorder.requests == ["GET /v1 HTTP/1.1", "GET /v1 HTTP/1.1"]


@pytest.mark.parametrize(("status", "expect", "healthy"), [
    (200, "<500", True), (404, "<500", True), (503, "<500", False),
    (302, "200-399", True), (404, "200-399", False), (204, "200,204", True),
])
async def test_expect_status(status: int, expect: str, healthy: bool) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status))
    async with open_http_client(transport) as client:
        if healthy:
            await attempt_http(http("http://svc.invalid/", expect), client)
        else:
            with pytest.raises(ProbeFailure) as caught:
                await attempt_http(http("http://svc.invalid/", expect), client)
            assert caught.value.reason == "http_status"


async def test_follows_redirects() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/old":
            return httpx.Response(301, headers={"location": "/new"})
        return httpx.Response(200 if request.url.path == "/new" else 500)

    async with open_http_client(httpx.MockTransport(handler)) as client:
        result = await attempt_http(http("http://svc.invalid/old", "200"), client)
    assert result == "GET answered 200"  # the status after the redirect, checked against expect_status
    assert seen == ["GET /old", "GET /new"]


async def test_refused_is_refused() -> None:
    async with serving(HttpRecorder({})) as port:
        pass  # closed again: nothing listens on port now
    async with open_http_client() as client:
        with pytest.raises(ProbeFailure) as caught:
            await attempt_http(http(f"http://127.0.0.1:{port}/"), client)
    assert caught.value.reason == "refused"


async def test_userinfo_never_in_the_failure_message() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    async with open_http_client(transport) as client:
        with pytest.raises(ProbeFailure) as caught:
            await attempt_http(http("https://user:s3cr3t-pass@svc.invalid/"), client)
    assert "s3cr3t-pass" not in caught.value.message


async def test_http_probes_are_not_serialised_by_a_pool() -> None:
    """150 HTTP probes at once: the server answers only when all 150 requests are in at the same
    time, which a client capped at httpx's default 100 connections can never reach."""
    count = 150
    arrived = 0
    all_in = trio.Event()

    async def barrier(stream: trio.SocketStream) -> None:
        nonlocal arrived
        async with stream:
            if not await read_request(stream):
                return
            arrived += 1
            if arrived == count:
                all_in.set()
            await all_in.wait()
            await stream.send_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")

    async with serving(barrier) as port:
        specs = tuple(ProbeSpec(name=f"api{i}", kind="http", url=f"http://127.0.0.1:{port}/", timeout=10)
                      for i in range(count))
        board = ProbeBoard(specs)
        with trio.fail_after(20):
            async with open_attempt(specs) as attempt:
                await probe_all(board, attempt, deadline=trio.current_time() + 10)
    assert all(result.ok for result in board.results.values())
    assert all(result.attempts == 1 for result in board.results.values())
