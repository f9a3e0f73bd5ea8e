"""An early answer (the app answers before reading the body) with a pipelined request behind it, on every
engine and loop (found in review of issue 23): the answer arrives whole and the service goes on.

On Hypercorn with trio, h11 closed the connection as soon as the pipelined request arrived, mid-answer:
the client got the head without its body, or nothing, and the close under the task still sending failed
with BusyResourceError, which took the whole service down (exit 70).
"""

from __future__ import annotations

import re
import signal

import httpx
import trio

from .cli import running
from .rawhttp import read_to_eof

TRIES = 20
PIPELINED = b"GET /read HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"


async def _early(port: int, path: str, size: int) -> bytes:
    """The whole reply to a POST of ``size`` body bytes with a GET pipelined behind it, in one write."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n".encode()
        try:
            await stream.send_all(head + b"a" * size + PIPELINED)
        except trio.BrokenResourceError:
            pass
        with trio.fail_after(10):
            reply, _ = await read_to_eof(stream)
    return reply


def _whole(reply: bytes, status: int) -> bool:
    head, _, body = reply.partition(b"\r\n\r\n")
    length = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
    return head.startswith(f"HTTP/1.1 {status} ".encode()) and length is not None and len(body) >= int(length[1])


async def test_an_early_answer_with_a_request_pipelined_behind_it_arrives_whole(server_env: dict[str, str]) -> None:
    async with running("--app", "tests.e2e.apps:early_app", "--bind", "127.0.0.1:0", "--max-body-size", "1000",
                       **server_env) as cli:
        url = await cli.url()
        port = int(url.rsplit(":", 1)[1])
        cases = [("/raise", 900, 500), ("/read", 5000, 413)] * (TRIES // 2)  # the app's 500; the body limit's 413
        answers = [await _early(port, path, size) for path, size, _ in cases]
        broken = [a[:80] for a, (_, _, status) in zip(answers, cases, strict=True) if not _whole(a, status)]
        assert broken == []
        async with httpx.AsyncClient() as client:
            assert (await client.get(url + "/readyz")).status_code == 200  # still serving
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
