"""No request pattern leaks a file descriptor in the serving process (issue 12): Upgrade: h2c requests
whose client goes away, half-sent requests, clients that vanish mid-response."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import trio

from .cli import running

ROOT = str(Path(__file__).resolve().parents[2])
ROUNDS = 300


def fds_of(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def _hit(host: str, port: int, request: bytes, read: bool) -> None:
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        await stream.send_all(request)
        if read:
            with trio.move_on_after(2):
                await stream.receive_some(65536)
    # closed here: the client goes away


PATTERNS = {
    "h2c-upgrade-then-gone": (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                              b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n", True),
    "half-sent-request": (b"GET / HTTP/1.1\r\nHost: x\r\n", False),
    "gone-before-the-response": (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", False),
}


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
async def test_no_request_pattern_leaks_a_descriptor(pattern: str, server_env: dict[str, str]) -> None:
    request, read = PATTERNS[pattern]
    async with running("--app", "tests.e2e.apps:hello_app", "--bind", "127.0.0.1:0", cwd=ROOT,
                       RESYNC_FSM_SERVER_KEEP_ALIVE_TIMEOUT="0.5", **server_env) as cli:
        url = await cli.url()
        host, port = url.removeprefix("http://").rsplit(":", 1)
        pid = cli.process.pid
        await _hit(host, int(port), b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", True)
        before = fds_of(pid)
        for _ in range(ROUNDS):
            await _hit(host, int(port), request, read)
        # every connection is gone from the client's side; the server closes its end within the
        # keep-alive timeout (0.5 s) at most: ask the other process until it has (bounded)
        with trio.fail_after(10):
            while fds_of(pid) > before + 2:  # noqa: ASYNC110 - another process: nothing to wait on
                await trio.sleep(0.05)
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
