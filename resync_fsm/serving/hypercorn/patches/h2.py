"""Hypercorn's HTTP/2 patches: send buffers released on close, and ``Upgrade: h2c`` refused on request."""

from __future__ import annotations

from typing import Any

from ...patching import replace

__all__ = ["H2C_ATTRIBUTE", "refuse_h2c", "release_buffers_on_close"]

H2C_ATTRIBUTE = "resync_fsm_h2c"  # on a hypercorn Config: False refuses Upgrade: h2c


def release_buffers_on_close() -> None:
    """When an HTTP/2 connection closes, wake every stream still waiting for its send buffer to drain.

    Upstream: Hypercorn's ``H2Protocol`` closes its streams on ``Closed`` but not their send buffers;
    the send task has exited, so an app still sending (an ``Upgrade: h2c`` request whose client went
    away is the common case) waits on ``drain()`` forever, its connection task never ends and the
    socket's descriptor leaks, one per such request (issue 12; tests/e2e/test_request_fds.py).
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

    replace(H2Protocol, "handle", handle, original)
def refuse_h2c() -> None:
    """For a Config whose :data:`H2C_ATTRIBUTE` is false, answer ``Upgrade: h2c`` requests in HTTP/1.1.

    Upstream: Hypercorn has no option for it: its HTTP/1.1 protocol switches to HTTP/2 on any
    body-less request carrying ``Upgrade: h2c`` (RFC 7540 §3.2). The wrapped ``_check_protocol`` sees
    the request without that ``Upgrade`` value; the app still receives every header. Prior-knowledge
    HTTP/2 (the ``PRI *`` preface) is unaffected (tests/e2e/test_surface.py).
    """
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

    replace(H11Protocol, "_check_protocol", check_protocol, original)
