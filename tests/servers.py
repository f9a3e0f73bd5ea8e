"""Tiny trio servers on loopback port 0, speaking just enough of a protocol for the probes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import trio
from functools import partial

Handler = Callable[[trio.SocketStream], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[int]:
    """Run ``handler`` for each connection on 127.0.0.1:<port>; yields the port."""
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, handler, 0, host="127.0.0.1"))
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()


async def read_request(stream: trio.SocketStream) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive_some(4096)
        if not chunk:
            break
        data += chunk
    return data


class HttpRecorder:
    """Answers each method with a fixed status; records the request lines it saw."""

    def __init__(self, statuses: dict[str, int], default: int = 404) -> None:
        self.statuses = statuses
        self.default = default
        self.requests: list[str] = []

    async def __call__(self, stream: trio.SocketStream) -> None:
        async with stream:
            request = await read_request(stream)
            if not request:
                return
            line = request.split(b"\r\n", 1)[0].decode()
            self.requests.append(line)
            status = self.statuses.get(line.split(" ", 1)[0], self.default)
            await stream.send_all(
                f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode()
            )
