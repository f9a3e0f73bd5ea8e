"""The supervisor ↔ worker channel: one JSON object per line over a socketpair (issue 17).

Parent → worker: ``{"view": {"live": [ok, state], "ready": [ok, state], "status": {...}}}`` (the
lifecycle's state, which every worker's health endpoints answer from), ``{"ping": n}`` (the
heartbeat; its view rides along), ``{"drain": true}`` (the service stops: close the listener, finish
in-flight work), ``{"retire": true}`` (recycled or reloaded: close the listener, answer every
connection already accepted, then drain; a ``drain`` cuts that short).
Worker → parent: ``{"ready": [urls]}`` (lifespan started, listening), ``{"pong": n, "requests": k}``,
``{"recycle": k}`` (``k`` requests reached its limit), ``{"failed": "one line"}`` (why it cannot
start or serve, just before it exits).
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import trio

__all__ = ["Channel"]

_MAX_LINE = 1 << 20  # bytes: a status document is a few kilobytes


class Channel:
    """One end of the channel; ``send`` never raises once the other end is gone (it may be dying)."""

    def __init__(self, sock: socket.socket) -> None:
        self.stream = trio.SocketStream(trio.socket.from_stdlib_socket(sock))
        self._lock = trio.Lock()
        self.closed = False

    async def send(self, message: dict[str, Any]) -> None:
        """Send one message (a JSON line); a closed or broken channel drops it silently."""
        if self.closed:
            return
        data = json.dumps(message, separators=(",", ":"), default=str).encode() + b"\n"
        try:
            async with self._lock:
                await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            self.closed = True

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        """Each message until the other end closes (or sends a line too long to be one)."""
        buffer = b""
        while True:
            try:
                chunk = await self.stream.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                chunk = b""
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                yield json.loads(line)
            if len(buffer) > _MAX_LINE:
                return

    async def aclose(self) -> None:
        """Close the channel (idempotent)."""
        self.closed = True
        with trio.CancelScope(shield=True):
            await self.stream.aclose()
