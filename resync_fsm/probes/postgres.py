"""The ``postgres`` probe: send a startup packet and judge the answer as ``pg_isready`` does.

An authentication request, or an authentication error, means the server
accepts connections (ok). "The database system is starting up" (SQLSTATE
57P03) is not ready. Anything that is not the PostgreSQL protocol is a
``protocol`` failure.
"""

from __future__ import annotations

import struct
import urllib.parse

import trio

from ..settings.model import ProbeSpec
from .results import ProbeFailure
from .tcp import connect

__all__ = ["attempt_postgres", "error_fields", "startup_packet"]

_PROTOCOL_3 = 196608
_CANNOT_CONNECT_NOW = "57P03"


def startup_packet(user: str, database: str) -> bytes:
    """A PostgreSQL v3 startup packet for ``user`` and ``database`` (bytes), as pg_isready sends."""
    body = struct.pack("!i", _PROTOCOL_3)
    for key, value in (("user", user), ("database", database), ("application_name", "resync_fsm")):
        body += key.encode() + b"\0" + value.encode() + b"\0"
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def error_fields(payload: bytes) -> dict[str, str]:
    """The fields of an ErrorResponse: ``{"C": "57P03", "M": "...", ...}``."""
    fields = {}
    for part in payload.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return fields


async def _receive_exactly(stream: trio.SocketStream, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = await stream.receive_some(size - len(data))
        if not chunk:
            raise ProbeFailure("protocol", "connection closed mid-reply: not a PostgreSQL server?")
        data += chunk
    return data


async def attempt_postgres(spec: ProbeSpec) -> str:
    """Answer judged like pg_isready: ok when the server asks for authentication or accepts.

    Raises :class:`~resync_fsm.errors.ProbeFailure` (``loading`` while starting up, ``protocol`` for
    a foreign answer, socket reasons otherwise).
    """
    if spec.url:
        url = urllib.parse.urlsplit(spec.url)
        host, port = url.hostname or "localhost", url.port or 5432
        user = urllib.parse.unquote(url.username or "") or "postgres"
        database = url.path.strip("/") or user
    else:
        assert spec.host is not None and spec.port is not None
        host, port, user, database = spec.host, spec.port, "postgres", "postgres"
    async with connect(host, port) as stream:
        try:
            await stream.send_all(startup_packet(user, database))
            header = await _receive_exactly(stream, 5)
        except trio.BrokenResourceError as exc:
            raise ProbeFailure("protocol", "connection reset: not a PostgreSQL server?") from exc
        kind, length = header[:1], struct.unpack("!i", header[1:])[0]
        if kind not in (b"R", b"E", b"v") or not 4 <= length <= 64 * 1024:
            raise ProbeFailure("protocol", f"the port answered {header!r}: not a PostgreSQL server")
        if kind in (b"R", b"v"):
            return "accepting connections"
        fields = error_fields(await _receive_exactly(stream, length - 4))
        code = fields.get("C", "")
        if code == _CANNOT_CONNECT_NOW:
            raise ProbeFailure("loading", f"PostgreSQL is not ready: {fields.get('M', code)}")
        # Any other error (bad password, unknown role or database) comes from a
        # server that accepts connections: pg_isready reports it as ready.
        return f"accepting connections (answered {code or 'an error'})"
