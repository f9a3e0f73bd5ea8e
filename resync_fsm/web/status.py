"""The ``/status`` document: state, history, probes, binds, loop, version; nothing secret (DESIGN §5)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .. import __version__

if TYPE_CHECKING:
    from ..runner import Runner

__all__ = ["status_document"]


def status_document(runner: Runner) -> dict[str, Any]:
    """A JSON-ready dict: ``state``, ``since`` (wall clock, s), ``uptime`` (s), ``version``, ``loop``,
    ``ready``, ``binds`` (public URLs), ``management`` (the management listeners' URLs), ``history``
    (transitions), ``probes`` (results, targets redacted); with ``server.workers > 1``, ``workers``
    (pid, generation, slot, state, uptime, requests, restarts)."""
    document: dict[str, Any] = {
        "state": runner.state,
        "since": runner.lifecycle.since_wall,
        "uptime": round(time.time() - runner.started_wall, 3),
        "version": __version__,
        "loop": runner.loop_name,
        "ready": runner.ready()[0],
        "binds": runner.binds,
        "management": runner.wrapper.management.urls if runner.wrapper is not None else [],
        "history": [move.as_dict() for move in runner.lifecycle.history],
        "probes": runner.board.as_list(),
    }
    workers = getattr(runner.server.server if runner.server else None, "workers", None)
    if workers is not None:
        document["workers"] = workers()
    return document
