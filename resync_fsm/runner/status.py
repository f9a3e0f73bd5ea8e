"""What ``web/`` reads of a runner, built in one place: :class:`RunnerView` and its ``/status`` document.

The health endpoints, the status page and ``/metrics`` answer from a
:class:`~resync_fsm.web.view.LifecycleView`; this is the runner's. It reads the
runner's named parts (the lifecycle, the probe board, the :class:`~.outcome.Ending`,
the server handle), never more, and is the one place the ``/status`` document is
made (DESIGN §5: nothing secret in it).
"""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING, Any

from ..lifecycle import State
from ..serving import ListsWorkers, ReportsReloads
from ..version import __version__

if TYPE_CHECKING:
    from .core import Runner

__all__ = ["RunnerView", "serving_choice", "status_document"]


class RunnerView:
    """The runner as ``web/`` sees it (:class:`~resync_fsm.web.view.LifecycleView`)."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    @property
    def state(self) -> State:
        """The current state."""
        return self._runner.lifecycle.state

    @property
    def loop_name(self) -> str:
        """The app's loop, once known (``trio`` before)."""
        return self._runner.loop_name

    @property
    def choice(self) -> dict[str, str]:
        """How the app is served and why (:func:`serving_choice`)."""
        return serving_choice(self._runner)

    @property
    def started_wall(self) -> float:
        """When the runner was made, seconds since the epoch."""
        return self._runner.started_wall

    @property
    def certificate_expiry(self) -> float | None:
        """The served certificate's notAfter (seconds since the epoch); ``None`` without TLS or settings."""
        settings = self._runner.settings
        return settings.tls.not_after if settings is not None else None

    def live(self) -> tuple[bool, str]:
        """Liveness: true unless failed; and the state."""
        state = self.state
        return state != State.FAILED, state

    def ready(self) -> tuple[bool, str]:
        """Readiness: true only while serving, listening, with every critical probe ok, and no stop asked."""
        runner = self._runner
        state = self.state
        ok = state == State.SERVING and not runner.ending.stop_requested and bool(runner.binds) \
            and runner.board.critical_ok
        return ok, state

    def status(self) -> dict[str, Any]:
        """The ``/status`` document (:func:`status_document`)."""
        return status_document(self._runner)

    def exit_reason(self, dest: str) -> str:
        """Why the lifecycle entered ``dest`` (``draining``, ``failed``): the error's class name, the
        signal's name, or ``request`` (a drain asked through the API)."""
        ending = self._runner.ending
        error = ending.error if dest == State.FAILED else ending.fault
        if error is not None:
            return type(error).__name__
        if dest == State.FAILED:
            return "StartupError"
        if ending.drain_signal is not None:
            return signal.Signals(ending.drain_signal).name
        return "request"


def serving_choice(runner: Runner) -> dict[str, str]:
    """``{"engine": "uvicorn", "engine_source": "auto: ...", "loop": "uvloop", "loop_source": "auto: ..."}``:
    the engine and loop serving the app and where each came from (``settings.sources``: ``"auto: <why>"``
    for a default resolved at validation, settings/auto.py; ``"flag --engine"``, ...); empty strings
    before the settings are valid."""
    settings = runner.settings
    if settings is None:
        return {"engine": "", "engine_source": "", "loop": runner.loop_name, "loop_source": ""}
    sources = settings.sources
    return {"engine": settings.server.engine, "engine_source": sources.get("server.engine", "default"),
            "loop": settings.server.loop, "loop_source": sources.get("server.loop", "default")}


def status_document(runner: Runner) -> dict[str, Any]:
    """A JSON-ready dict: ``state``, ``since`` (wall clock, s), ``uptime`` (s), ``version``, ``loop``,
    ``engine``, ``choice`` (:func:`serving_choice`: the engine and loop and why),
    ``ready``, ``binds`` (public URLs), ``management`` (the management listeners' URLs), ``history``
    (transitions), ``probes`` (results, targets redacted); with ``server.workers > 1`` or ``server.reload``,
    ``workers`` (pid, generation, slot, state, uptime, requests, restarts) and, once a reload has run,
    ``reload`` (:meth:`~resync_fsm.serving.ReportsReloads.reload_status`)."""
    handle = runner.server
    document: dict[str, Any] = {
        "state": runner.state,
        "since": runner.lifecycle.since_wall,
        "uptime": round(time.time() - runner.started_wall, 3),
        "version": __version__,
        "loop": runner.loop_name,
        "engine": runner.settings.server.engine if runner.settings is not None else None,
        "choice": serving_choice(runner),
        "ready": runner.view.ready()[0],
        "binds": runner.binds,
        "management": handle.management_urls if handle is not None else [],
        "history": [move.as_dict() for move in runner.lifecycle.history],
        "probes": runner.board.as_list(),
    }
    if handle is not None and isinstance(handle.server, ListsWorkers):
        document["workers"] = handle.server.workers()
    if handle is not None and isinstance(handle.server, ReportsReloads) and handle.server.reload_status():
        document["reload"] = handle.server.reload_status()
    return document
