"""Serving one app on one engine: the front the runner talks to (:func:`compose`, the interface).

- :mod:`.compose` — one serving composed: the app loaded, the health wrapper, the engine's server;
  :func:`import_app`, the app imported (or its source checked) ahead of it, while validating
- :mod:`.interface` — the :class:`Server` protocol, the :data:`Engine` factory type, the capabilities
- :mod:`.engines` — where an engine plugs in (``server.engine``, ``server.workers``)
- shared by the engines: :mod:`.loading` (the app), :mod:`.counting` (``max_requests``), :mod:`.binding` (listeners),
  :mod:`.lifespan` (the app's lifespan), :mod:`.middleware` (proxy headers, access log),
  :mod:`.loop_bridge` (the trio side driving the app's loop), :mod:`.in_process` (what the
  in-process servers share)
- engines, one subpackage each, never importing each other: :mod:`.hypercorn` (any loop),
  :mod:`.uvicorn` (asyncio, uvloop), :mod:`.workers` (a supervisor of worker processes, each
  serving with one of the others); each engine's changes to third-party code live in its
  ``patches`` module

The engine subpackages (and their servers) are imported only when a serving selects
one, so ``check``, ``diagram`` and ``--version`` never pay for them.
"""

from __future__ import annotations

from .compose import Serving, compose, import_app, request_limit
from .engines import engine_for
from .interface import (
    Abortable,
    Backend,
    Engine,
    FollowsView,
    ListsWorkers,
    OnFault,
    Reloadable,
    ReportsReloads,
    Server,
    Supervisor,
)

__all__ = ["Abortable", "Backend", "Engine", "FollowsView", "ListsWorkers", "OnFault", "Reloadable", "ReportsReloads",
           "Server", "Serving", "Supervisor", "compose", "engine_for", "import_app",
           "request_limit"]
