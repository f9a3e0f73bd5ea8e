"""Raw HTTP/1.1 over a trio socket: what a client sees byte for byte, resets included (issues 23, 24, 25)."""

from __future__ import annotations

import math
import random

import trio

CHUNK = 1 << 16
FIRST = 512  # body bytes sent with the head, before the client waits for its answer


def body_sizes(count: int, seed: int = 23) -> list[int]:
    """``count`` body sizes from 1 KiB to 1 MiB: ``1 KiB × 1024**(u**4)``, u uniform in [0, 1): every
    decade of the range is drawn (a sixth above 32 KiB, 2.6 % above 512 KiB), 48 MB for 1,000, where
    log-uniform sizes would be 160 MB."""
    rng = random.Random(seed)
    return [max(1024, math.floor(1024 * 1024 ** (rng.random() ** 4))) for _ in range(count)]


async def read_to_eof(stream: trio.SocketStream) -> tuple[bytes, bool]:
    """Everything the server sends until it closes: (bytes, False), or (bytes so far, True) on a reset."""
    answer = b""
    try:
        while chunk := await stream.receive_some(CHUNK):
            answer += chunk
    except trio.BrokenResourceError:
        return answer, True
    return answer, False


async def early_answer(port: int, path: str, size: int, *, chunked: bool = False, first: int = FIRST) -> str:
    """POST ``size`` body bytes to ``path`` as a client that keeps sending after an early answer: the head
    and ``first`` bytes, then everything until the server closes, then the rest of the body. Returns the
    status code plus ``" close"`` when the answer said ``Connection: close``, or ``"reset ..."`` when a
    reset (or an empty reply) destroyed it."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    body = b"x" * min(first, size)
    wire = (b"%x\r\n%s\r\n" % (len(body), body)) if chunked else body
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        try:
            await stream.send_all(f"POST {path} HTTP/1.1\r\nHost: test\r\n{framing}\r\n\r\n".encode() + wire)
        except trio.BrokenResourceError:
            return "reset while sending the head"
        answer, reset = await read_to_eof(stream)
        if reset or not answer:
            return f"reset before the answer ({len(answer)} bytes)"
        left = size - len(body)
        try:
            while left > 0:
                piece = b"x" * min(CHUNK, left)
                await stream.send_all((b"%x\r\n%s\r\n" % (len(piece), piece)) if chunked else piece)
                left -= len(piece)
            if chunked:
                await stream.send_all(b"0\r\n\r\n")
        except trio.BrokenResourceError:
            return "reset while sending the rest"
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    return answer.split(b" ", 2)[1].decode() + (" close" if b"\r\nconnection: close" in head else "")


PROBE = b"GET /probe HTTP/1.1\r\nHost: test\r\n\r\n"


async def _response(stream: trio.SocketStream, buffer: bytes) -> tuple[bytes, bytes, bool]:
    """One response read from ``stream`` after ``buffer``: (the response, what follows it, closed)."""
    while b"\r\n\r\n" not in buffer:
        chunk = await stream.receive_some(CHUNK)
        if not chunk:
            return buffer, b"", True
        buffer += chunk
    head, rest = buffer.split(b"\r\n\r\n", 1)
    length = next((int(line.split(b":", 1)[1]) for line in head.lower().split(b"\r\n")
                   if line.startswith(b"content-length:")), None)
    while length is not None and len(rest) < length:
        chunk = await stream.receive_some(CHUNK)
        if not chunk:
            return buffer, b"", True
        rest += chunk
    size = len(head) + 4 + (length or 0)
    return buffer[:size], buffer[size:], False


async def exchange(port: int, data: bytes, *, step: int = 0, limit: float = 10.0) -> tuple[int | None, bool]:
    """Send ``data`` (at once, or ``step`` bytes per write), read the answer, then probe the connection
    with a second request: returns (the first answer's status or None, whether the server closed the
    connection after it rather than answer the probe). A reset while sending stops sending; what the
    server answered is still read."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        with trio.fail_after(limit):
            try:
                for i in range(0, len(data), step or len(data)):
                    await stream.send_all(data[i:i + (step or len(data))])
            except trio.BrokenResourceError:
                pass
            try:
                first, rest, closed = await _response(stream, b"")
                status = int(first.split(b" ", 2)[1]) if first.startswith(b"HTTP/1.") else None
                if closed:
                    return status, True
                if b"\r\nconnection: close" in first.lower():  # then the server must close
                    await read_to_eof(stream)
                    return status, True
                await stream.send_all(PROBE)
                second, _, closed = await _response(stream, rest)
                return status, closed or not second
            except trio.BrokenResourceError:
                return None, True
