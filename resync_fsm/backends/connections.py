"""Force-closing what Hypercorn on trio cannot cancel: connections stuck writing to a client.

Hypercorn's trio ``TCPServer.protocol_send`` shields ``send_all`` from
cancellation, so a client that never reads a large response blocks its
connection task forever, and with it the nursery, the runner and the process
(issue "every stop bounded"). Each connection is tracked here; when the runner
cuts the server (its drain budget ran out, or a forced stop),
:func:`abort_trio_connections` closes their sockets, which wakes the blocked
send with ``ClosedResourceError`` (trio's ``notify_closing``).
"""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["abort_trio_connections", "track_trio_connections"]

_open: weakref.WeakSet[Any] = weakref.WeakSet()


def track_trio_connections() -> None:
    """Make ``hypercorn.trio`` record every connection it serves (idempotent)."""
    from hypercorn.trio import run

    base = run.TCPServer  # type: ignore[attr-defined]
    if getattr(base, "_resync_fsm_tracked", False):
        return

    class TrackedTCPServer(base):  # type: ignore[misc,valid-type]
        _resync_fsm_tracked = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            _open.add(self)

    run.TCPServer = TrackedTCPServer  # type: ignore[attr-defined]


def abort_trio_connections() -> int:
    """Close the socket of every open connection; returns how many were closed."""
    closed = 0
    for connection in list(_open):
        stream = getattr(connection, "stream", None)
        sock = getattr(getattr(stream, "transport_stream", stream), "socket", None)
        if sock is not None and sock.fileno() != -1:
            sock.close()
            closed += 1
    return closed
