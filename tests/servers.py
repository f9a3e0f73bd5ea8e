"""Tiny trio servers on loopback port 0, speaking just enough of a protocol for the probes."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from functools import partial

import trio

Handler = Callable[[trio.SocketStream], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[int]:
    """Run ``handler`` for each connection on 127.0.0.1:<port>; yields the port."""
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, handler, 0, host="127.0.0.1"))
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()


async def read_request(stream: trio.SocketStream) -> bytes:
    """The request head; like a real server, a first line that is not HTTP ends it at once."""
    data = b""
    while b"\r\n\r\n" not in data:
        if b"\r\n" in data and not data.split(b"\r\n", 1)[0].endswith((b"HTTP/1.1", b"HTTP/1.0")):
            break
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
            line = request.split(b"\r\n", 1)[0].decode("utf-8", "replace")
            self.requests.append(line)
            status = self.statuses.get(line.split(" ", 1)[0], self.default)
            if not line.endswith(("HTTP/1.1", "HTTP/1.0")):
                status = 400
            await stream.send_all(
                f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode()
            )


class FakeRedis:
    """RESP over loopback: AUTH against ``password`` (and ``user``), SELECT, PING.

    ``mode`` "loading" answers PING with -LOADING, "garbage" answers in another protocol.
    """

    def __init__(self, password: str | None = None, user: str = "default", mode: str = "ok") -> None:
        self.password, self.user, self.mode = password, user, mode
        self.commands: list[list[str]] = []

    async def __call__(self, stream: trio.SocketStream) -> None:
        async with stream:
            authed = self.password is None
            buffer = b""
            while True:
                while True:
                    if buffer and not buffer.startswith(b"*"):  # as Redis does with non-RESP input
                        await stream.send_all(b"-ERR Protocol error: expected '*', got something else\r\n")
                        return
                    parsed = _parse_resp(buffer)
                    if parsed is not None:
                        break
                    chunk = await stream.receive_some(4096)
                    if not chunk:
                        return
                    buffer += chunk
                args, buffer = parsed
                self.commands.append(args)
                verb = args[0].upper()
                if self.mode == "garbage":
                    reply = b"HTTP/1.1 400 Bad Request\r\n\r\n"
                elif verb == "AUTH":
                    user, password = (args[1], args[2]) if len(args) == 3 else ("default", args[1])
                    if self.password is None:
                        reply = b"-ERR AUTH <password> called without any password configured\r\n"
                    elif (user, password) == (self.user, self.password):
                        authed, reply = True, b"+OK\r\n"
                    else:
                        reply = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
                elif not authed:
                    reply = b"-NOAUTH Authentication required.\r\n"
                elif verb == "SELECT":
                    reply = b"+OK\r\n"
                elif verb == "PING":
                    loading = b"-LOADING Redis is loading the dataset in memory\r\n"
                    reply = loading if self.mode == "loading" else b"+PONG\r\n"
                else:
                    reply = b"-ERR unknown command\r\n"
                await stream.send_all(reply)


def _parse_resp(buffer: bytes) -> tuple[list[str], bytes] | None:
    if not buffer.startswith(b"*") or b"\r\n" not in buffer:
        return None
    head, rest = buffer.split(b"\r\n", 1)
    args = []
    for _ in range(int(head[1:])):
        if b"\r\n" not in rest:
            return None
        size_line, rest = rest.split(b"\r\n", 1)
        size = int(size_line[1:])
        if len(rest) < size + 2:
            return None
        args.append(rest[:size].decode())
        rest = rest[size + 2:]
    return args, rest


class FakePostgres:
    """Reads a startup packet and answers as ``mode`` says: ``auth`` (an authentication request),
    ``starting`` (57P03), ``badpass`` (28P01), ``garbage`` (another protocol), ``close``."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.startups: list[bytes] = []

    async def __call__(self, stream: trio.SocketStream) -> None:
        import struct

        async with stream:
            data = b""
            while len(data) < 4 or len(data) < struct.unpack("!i", data[:4])[0]:
                chunk = await stream.receive_some(4096)
                if not chunk:
                    return
                data += chunk
            self.startups.append(data)
            if self.mode == "close":
                return
            if self.mode == "garbage":
                await stream.send_all(b"SSH-2.0-OpenSSH_9.2\r\n")
                return
            if self.mode == "auth":
                await stream.send_all(b"R" + struct.pack("!ii", 8, 3))
                return
            code, message = {"starting": ("57P03", "the database system is starting up"),
                              "badpass": ("28P01", "password authentication failed")}[self.mode]
            body = b"SFATAL\0C" + code.encode() + b"\0M" + message.encode() + b"\0\0"
            await stream.send_all(b"E" + struct.pack("!i", len(body) + 4) + body)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released: connecting to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def silent_endpoints(count: int) -> Iterator[list[int]]:
    """``count`` loopback listeners whose accept queue is full: a new connect hangs (SYN dropped)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            server = stack.enter_context(socket.socket())
            server.bind(("127.0.0.1", 0))
            server.listen(0)
            port = server.getsockname()[1]
            for _ in range(3):  # more than the kernel queues for backlog 0
                client = stack.enter_context(socket.socket())
                client.setblocking(False)
                client.connect_ex(("127.0.0.1", port))
            ports.append(port)
        yield ports
