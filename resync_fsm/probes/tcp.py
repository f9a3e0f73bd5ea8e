"""The ``tcp`` probe, and the connection helper the protocol probes share."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from ..settings.model import ProbeSpec
from .results import ProbeFailure

__all__ = ["attempt_tcp", "connect", "reason_for_oserror"]

_REASON_BY_ERRNO = {
    errno.ECONNREFUSED: "refused",
    errno.ECONNRESET: "refused",
    errno.ETIMEDOUT: "timeout",
    errno.ENETUNREACH: "unreachable",
    errno.EHOSTUNREACH: "unreachable",
    errno.ENETDOWN: "unreachable",
}


def reason_for_oserror(exc: OSError) -> tuple[str, str]:
    """A reason code and message for a failed connect, looking through trio's wrapping."""
    if isinstance(exc, socket.gaierror):
        return "dns", f"host name does not resolve ({exc.strerror or exc})"
    causes: list[BaseException] = [exc]
    if isinstance(exc.__cause__, BaseExceptionGroup):
        causes = list(exc.__cause__.exceptions)
    for cause in causes:
        if isinstance(cause, OSError) and cause.errno in _REASON_BY_ERRNO:
            return _REASON_BY_ERRNO[cause.errno], os.strerror(cause.errno)
    first = causes[0]
    return "network", (first.strerror if isinstance(first, OSError) and first.strerror else str(first))


@asynccontextmanager
async def connect(host: str, port: int) -> AsyncIterator[trio.SocketStream]:
    """An open TCP stream, closed on every path; connect errors become :class:`ProbeFailure`."""
    try:
        stream = await trio.open_tcp_stream(host, port)
    except OSError as exc:
        reason, message = reason_for_oserror(exc)
        raise ProbeFailure(reason, f"connect to {host}:{port}: {message}") from exc
    async with stream:
        yield stream


async def attempt_tcp(spec: ProbeSpec) -> str:
    """Open (and close) a TCP connection to ``spec.host:spec.port``; returns ``open``.

    Raises :class:`~resync_fsm.errors.ProbeFailure` (``refused``, ``timeout``, ``dns``, ``unreachable``, ``network``).
    """
    assert spec.host is not None and spec.port is not None
    async with connect(spec.host, spec.port):
        return "connected"
