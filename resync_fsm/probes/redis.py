"""The ``redis`` probe: ``AUTH`` (from the URL), ``SELECT`` (from its path), ``PING`` → ``PONG``.

Speaks just enough RESP to judge an answer: an open port that replies in
another protocol is a ``protocol`` failure, ``LOADING`` means not ready yet,
``NOAUTH`` and a refused password are ``auth``.
"""

from __future__ import annotations

import ssl
import urllib.parse

import trio

from ..settings.model import ProbeSpec
from .results import ProbeFailure
from .tcp import connect

__all__ = ["attempt_redis", "command", "read_line"]

_MAX_LINE = 64 * 1024


def command(*args: str) -> bytes:
    """A RESP array of bulk strings."""
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def read_line(stream: trio.abc.ReceiveStream, buffer: bytearray) -> bytes:
    """One CRLF-terminated line; closing early or an endless line is a protocol failure."""
    while b"\r\n" not in buffer:
        if len(buffer) > _MAX_LINE:
            raise ProbeFailure("protocol", "reply line too long: not a Redis server")
        chunk = await stream.receive_some(4096)
        if not chunk:
            raise ProbeFailure("protocol", "connection closed without a reply: not a Redis server?")
        buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\r\n")
    buffer[:] = rest
    return line


async def _call(stream: trio.abc.Stream, buffer: bytearray, *args: str) -> bytes:
    await stream.send_all(command(*args))
    line = await read_line(stream, buffer)
    if line[:1] == b"-":
        _raise_error(line[1:].decode("utf-8", "replace"), args[0])
    if line[:1] not in (b"+", b":", b"$", b"*"):
        raise ProbeFailure("protocol", f"the port answered {line[:20]!r}, not RESP: not a Redis server")
    return line


def _raise_error(error: str, verb: str) -> None:
    code = error.split(" ", 1)[0]
    if code == "LOADING":
        raise ProbeFailure("loading", "Redis is loading its dataset into memory")
    if code in ("NOAUTH", "WRONGPASS") or verb == "AUTH":
        # Redis's own text names no secret; keep only its first words.
        raise ProbeFailure("auth", f"Redis refused authentication ({code})")
    raise ProbeFailure("protocol", f"Redis answered {verb} with an error ({code})")


async def attempt_redis(spec: ProbeSpec) -> str:
    """AUTH (from the URL's userinfo), SELECT, PING; returns ``PONG``.

    Raises :class:`~resync_fsm.errors.ProbeFailure` (``auth``, ``loading``, ``protocol``, ``tls`` and
    socket reasons).
    """
    assert spec.url is not None
    url = urllib.parse.urlsplit(spec.url)
    host, port = url.hostname or "localhost", url.port or 6379
    async with connect(host, port) as tcp:
        stream: trio.abc.Stream = tcp
        if url.scheme == "rediss":
            stream = trio.SSLStream(tcp, ssl.create_default_context(), server_hostname=host)
            try:
                await stream.do_handshake()
            except (trio.BrokenResourceError, ssl.SSLError) as exc:
                raise ProbeFailure("tls", f"TLS handshake with {host}:{port} failed") from exc
        buffer = bytearray()
        try:
            if url.password is not None:
                user = urllib.parse.unquote(url.username or "")
                password = urllib.parse.unquote(url.password)
                await _call(stream, buffer, "AUTH", *([user] if user else []), password)
            elif url.username:  # redis://:@ or a lone token as the password
                await _call(stream, buffer, "AUTH", urllib.parse.unquote(url.username))
            db = url.path.strip("/")
            if db and db != "0":
                await _call(stream, buffer, "SELECT", db)
            reply = await _call(stream, buffer, "PING")
        except trio.BrokenResourceError as exc:
            raise ProbeFailure("protocol", "connection reset during the exchange: not a Redis server?") from exc
        if reply != b"+PONG":
            raise ProbeFailure("protocol", f"PING answered {reply[:20]!r}, not PONG")
        return "PONG"
