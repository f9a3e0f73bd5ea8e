"""Hypercorn gives a request on a unix socket ``scope["server"] = (path, None)``, as Uvicorn does.

Hypercorn leaves ``server`` (and ``client``) ``None`` on a unix socket; the
health wrapper tells a management listener from a public one by
``scope["server"]`` (docs/operations.md "Exposure"), so both engines must name
the listening socket. :func:`install` wraps ``parse_socket_addr`` where
Hypercorn's TCP servers (asyncio and trio) call it, once: an ``AF_UNIX``
address that is a non-empty path becomes ``(path, None)``; an unnamed peer
(every ordinary client) stays ``None``. tests/e2e/test_exposure.py checks it
against the installed Hypercorn.
"""

from __future__ import annotations

import socket
from typing import Any

__all__ = ["install"]


def install() -> None:
    """Wrap ``parse_socket_addr`` in ``hypercorn.asyncio.tcp_server`` and ``hypercorn.trio.tcp_server`` (idempotent)."""
    import hypercorn.asyncio.tcp_server as on_asyncio
    import hypercorn.trio.tcp_server as on_trio

    for module in (on_asyncio, on_trio):
        original: Any = module.parse_socket_addr
        if getattr(original, "_resync_fsm", False):
            continue

        def parse_socket_addr(family: int, address: Any, original: Any = original) -> Any:
            if family == socket.AF_UNIX and isinstance(address, str) and address:
                return (address, None)
            return original(family, address)

        parse_socket_addr._resync_fsm = True  # type: ignore[attr-defined]
        module.parse_socket_addr = parse_socket_addr  # type: ignore[attr-defined]
