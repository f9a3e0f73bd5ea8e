"""Hypercorn's HTTP/2 upgrade (h2c): the ``server.h2c`` switch, and a descriptor leak mended.

``server.h2c = false``: Hypercorn answers ``Upgrade: h2c`` requests in HTTP/1.1 instead of switching.

Hypercorn has no option for it: its HTTP/1.1 protocol switches to HTTP/2 on any
body-less request carrying ``Upgrade: h2c`` (RFC 7540 §3.2). :func:`refuse_h2c`
wraps that check once (only when a server is configured with ``h2c = false``:
the wrapper is on every HTTP/1.1 request's path) so that, for a
:class:`~hypercorn.config.Config` whose :data:`H2C_ATTRIBUTE` is false, it sees
the request without that ``Upgrade`` value; the app still receives every header. Prior-knowledge HTTP/2 (the
``PRI *`` preface) is unaffected. tests/e2e/test_surface.py checks both
behaviours against the installed Hypercorn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["H2C_ATTRIBUTE", "install", "refuse_h2c"]

H2C_ATTRIBUTE = "resync_fsm_h2c"


def install() -> None:
    """Mend the HTTP/2 descriptor leak (idempotent; see :func:`_release_buffers_on_close`)."""
    _release_buffers_on_close()


def refuse_h2c() -> None:
    """Wrap ``H11Protocol._check_protocol`` (idempotent)."""
    import h11
    from hypercorn.protocol.h11 import H11Protocol

    original: Any = H11Protocol._check_protocol
    if getattr(original, "_resync_fsm", False):
        return

    async def check_protocol(self: Any, event: Any) -> None:
        if not getattr(self.config, H2C_ATTRIBUTE, True):
            headers = [(n, v) for n, v in event.headers
                       if not (n.lower() == b"upgrade" and v.strip().lower() == b"h2c")]
            event = h11.Request(method=event.method, target=event.target, headers=headers,
                                http_version=event.http_version)
        await original(self, event)

    check_protocol._resync_fsm = True  # type: ignore[attr-defined]
    H11Protocol._check_protocol = check_protocol  # type: ignore[method-assign]


def _release_buffers_on_close() -> None:
    """When an HTTP/2 connection closes, wake every stream still waiting for its send buffer to drain.

    Hypercorn closes its streams on ``Closed`` but not their send buffers; the send task has
    exited, so an app still sending (an ``Upgrade: h2c`` request whose client went away is the
    common case) waits on ``drain()`` forever, its connection task never ends and the socket's
    descriptor leaks, one per such request (issue 12; tests/e2e/test_request_fds.py).
    """
    from hypercorn.events import Closed
    from hypercorn.protocol.h2 import H2Protocol

    original: Any = H2Protocol.handle
    if getattr(original, "_resync_fsm", False):
        return

    async def handle(self: Any, event: Any) -> None:
        await original(self, event)
        if isinstance(event, Closed):
            for buffer in list(self.stream_buffers.values()):
                await buffer.close()

    handle._resync_fsm = True  # type: ignore[attr-defined]
    H2Protocol.handle = handle  # type: ignore[method-assign]
