"""The worker supervisor engine (``server.workers > 1``): several processes serving one app (issue 17).

- :mod:`.pool` — :class:`WorkerPool`, the supervisor behind the Server interface
- :mod:`.generations` — a reload (SIGHUP) and a recycle (``max_requests``), capacity kept
- :mod:`.crash_loop` — replacement backoff, crash-loop detection, recycling limits
- :mod:`.process` — one worker process as the supervisor sees it
- :mod:`.heartbeat` — the heartbeat, and the view delivered to every worker before anything says ready
- :mod:`.channel` — the supervisor ↔ worker channel
- :mod:`.child` — what a worker process does (its entry point: :mod:`resync_fsm.worker`)

Each worker serves with an in-process engine (which knows what it accepted:
:mod:`resync_fsm.serving.patches`), selected again by
:func:`resync_fsm.serving.engines.engine_for`; this package imports no other engine.
"""

from __future__ import annotations

from typing import Literal

from ...settings.model import Settings
from ...web.health import HealthWrapper
from ..interface import OnFault
from .pool import WorkerPool

__all__ = ["WorkerPool", "workers_engine"]


class _WorkersEngine:
    """The :data:`~resync_fsm.serving.interface.Engine` for ``server.workers > 1``; ``imports_app``
    false (:class:`~resync_fsm.serving.interface.ImportsAppElsewhere`): the runner's process never
    imports the app (each worker does, afresh on every reload)."""

    imports_app: Literal[False] = False

    def __call__(self, wrapper: HealthWrapper, settings: Settings, on_fault: OnFault) -> WorkerPool:
        """A :class:`WorkerPool` over ``wrapper``'s view."""
        return WorkerPool(wrapper, settings, on_fault)


workers_engine = _WorkersEngine()
