"""Server backends behind one interface (:mod:`.interface`): Hypercorn on trio, asyncio or uvloop; Uvicorn
on asyncio or uvloop; with ``server.workers > 1``, a supervisor of worker processes serving either.

``select_backend(settings)`` picks the backend for ``server.engine``; the backend
modules (and their servers) are imported only then, so ``check``, ``diagram`` and
``--version`` never pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .interface import Backend, Server

if TYPE_CHECKING:
    from ..settings.model import Settings

__all__ = ["Backend", "Server", "select_backend"]


def select_backend(settings: Settings) -> Backend:
    """The backend for ``settings.server.engine``: Hypercorn (on ``server.loop``) or Uvicorn (asyncio or uvloop;
    the settings refuse it with trio); with ``server.workers > 1``, the supervisor (:mod:`.workers`), whose
    worker processes each serve with the engine's backend."""
    if settings.server.workers > 1:
        from .workers import workers_backend

        return workers_backend
    if settings.server.engine == "uvicorn":
        from .uvicorn import uvicorn_backend

        return uvicorn_backend
    from .hypercorn import hypercorn_backend

    return hypercorn_backend
