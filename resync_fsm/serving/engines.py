"""Where an engine plugs in: ``server.engine`` (and ``server.workers``) to the engine factory.

Each engine is a subpackage of :mod:`resync_fsm.serving` exporting one factory
(an :data:`~.interface.Engine`), named here by import string, as Uvicorn names
its loop and protocol implementations (``uvicorn.config.LOOP_SETUPS``): the
subpackage, and its server, are imported only when a serving selects it, so
``check``, ``diagram`` and ``--version`` never pay for them, and no module of
the serving package's front imports an engine. Engine subpackages never import
each other; the worker supervisor's processes each select an in-process
engine again through :func:`engine_for`.
"""

from __future__ import annotations

import importlib

from ..settings.model import Settings
from .interface import Engine, ImportsAppElsewhere

__all__ = ["ENGINES", "engine_for", "imports_app", "load_engine"]

ENGINES = {
    "hypercorn": "resync_fsm.serving.hypercorn:hypercorn_engine",
    "uvicorn": "resync_fsm.serving.uvicorn:uvicorn_engine",
    "workers": "resync_fsm.serving.workers:workers_engine",
}


def load_engine(name: str) -> Engine:
    """The factory :data:`ENGINES` names ``name`` (``KeyError`` for an unknown name)."""
    module, attribute = ENGINES[name].split(":")
    engine: Engine = getattr(importlib.import_module(module), attribute)
    return engine


def engine_for(settings: Settings) -> Engine:
    """The engine for ``settings``: the worker supervisor with ``server.workers > 1`` or ``server.reload``
    (one worker process per generation, a new one on every change: DESIGN §9; its processes serve with
    ``server.engine``), else ``server.engine`` (Hypercorn on any ``server.loop``, Uvicorn on asyncio or
    uvloop; the settings refuse Uvicorn with trio)."""
    server = settings.server
    return load_engine("workers" if server.workers > 1 or server.reload else server.engine)


def imports_app(engine: Engine) -> bool:
    """Whether the process that runs ``engine`` imports the app: false only for an engine whose
    ``imports_app`` is ``False`` (:class:`~.interface.ImportsAppElsewhere`: the worker supervisor)."""
    return not (isinstance(engine, ImportsAppElsewhere) and engine.imports_app is False)
