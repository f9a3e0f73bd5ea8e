"""Server backends behind one interface (:mod:`.interface`): Hypercorn on trio, asyncio or uvloop.

``select_backend(settings)`` picks the backend for ``server.loop``; the backend
modules (and Hypercorn) are imported only then, so ``check``, ``diagram`` and
``--version`` never pay for them.
"""

from __future__ import annotations

from .interface import Backend, Server

__all__ = ["Backend", "Server", "select_backend"]


def select_backend(loop: str) -> Backend:
    """The backend serving on ``loop`` ("trio", "asyncio" or "uvloop"): Hypercorn today."""
    from .hypercorn import hypercorn_backend

    return hypercorn_backend
