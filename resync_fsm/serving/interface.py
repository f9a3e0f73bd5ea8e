"""The one small interface between the runner and an engine (DESIGN §5).

An :data:`Engine` is a callable ``engine(wrapper, settings, on_fault) -> Server``
building one :class:`Server` for one lifecycle; ``wrapper`` is the
:class:`~resync_fsm.web.health.HealthWrapper` around the app (:func:`~.compose.compose`
makes it). The runner starts the server in ``serving``, asks it to shut down in
``draining``, and bounds the wait by its ``drain_budget``. What only some servers
can do is a capability, a runtime-checkable protocol the runner tests with
``isinstance``: :class:`Abortable` (cut every connection at once), :class:`Reloadable`
(SIGHUP), :class:`FollowsView` (told when the state changes), :class:`ListsWorkers`
(its processes for ``/status``) and :class:`ReportsReloads` (the last reload's outcome for
``/status``); a :class:`Supervisor` (several processes) is all four. An
engine whose processes import the app themselves says so with
:class:`ImportsAppElsewhere`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

import trio

from ..settings.model import Settings
from ..web.health import HealthWrapper

__all__ = ["Abortable", "Backend", "Engine", "FollowsView", "ImportsAppElsewhere", "ListsWorkers", "OnFault",
           "Reloadable", "ReportsReloads", "Server", "Supervisor"]

OnFault = Callable[[BaseException], None]
"""``on_fault(error)``: an error while serving (the app's lifespan died) that must drain, then fail."""


class Server(Protocol):
    """One serving of one app."""

    @property
    def drain_budget(self) -> float:
        """Seconds from :meth:`shutdown` to :meth:`serve` returning, at most, whatever clients
        do: the graceful timeout for in-flight work plus the lifespan shutdown timeout."""

    async def serve(self, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        """Bind every listener, complete the app's lifespan startup, then serve.

        ``task_status.started(urls)`` (``http://host:port``, ``unix:/path``) once every
        listener accepts and the startup has completed: nothing may say ready before.
        Returns once :meth:`shutdown` was called and the drain finished (listeners
        closed, in-flight work done or cut at the graceful timeout, lifespan shut
        down). Cancelled, it stops at once; a completed startup still gets its
        shutdown. Raises :class:`~resync_fsm.errors.StartupError` for a bind failure
        and :class:`~resync_fsm.errors.LifespanError` for a lifespan one.
        """

    def shutdown(self) -> None:
        """Close the listeners and let in-flight work finish (Hypercorn's shutdown trigger)."""


@runtime_checkable
class Abortable(Protocol):
    """A server that can cut every connection at once: called before its task is cancelled when the
    drain budget ran out or a stop was forced (Hypercorn on trio, whose shielded writes never end)."""

    def abort(self) -> None:
        """Cut every connection now."""


@runtime_checkable
class Reloadable(Protocol):
    """A server that reloads the app on SIGHUP."""

    async def reload(self) -> None:
        """SIGHUP: replace every process with one running a fresh import of the app; the old ones drain
        only once the new ones serve; a new set that fails to start is discarded (logged)."""


@runtime_checkable
class FollowsView(Protocol):
    """A server that must be told when the runner's state or readiness changes (its processes answer
    the health endpoints from what they were told)."""

    def view_changed(self) -> None:
        """The runner's state or readiness may have changed: carry it to every process now."""

    async def view_delivered(self) -> None:
        """Carry the runner's view to every serving process and return once each has acknowledged it
        (bounded): from then on each answers ``/readyz`` from it (issue 24: nothing says ready first)."""


@runtime_checkable
class ListsWorkers(Protocol):
    """A server of several processes that lists them for ``/status``."""

    def workers(self) -> list[dict[str, Any]]:
        """The processes for ``/status``: pid, generation, state, uptime, requests, restarts."""


@runtime_checkable
class ReportsReloads(Protocol):
    """A server that reloads (SIGHUP, ``server.reload``) and reports how its last reload went."""

    def reload_status(self) -> dict[str, Any] | None:
        """``{"generation", "ok", "error" (one line or None), "at" (wall clock, s), "serving_generation"}``
        for the last reload; None before any. A failed one shows until the next one serves (DESIGN §9)."""


@runtime_checkable
class Supervisor(Reloadable, FollowsView, ListsWorkers, ReportsReloads, Protocol):
    """A server of several processes (``server.workers > 1``, :mod:`.workers`)."""


Engine = Callable[[HealthWrapper, Settings, OnFault], Server]
"""An engine factory: ``engine(wrapper, settings, on_fault)`` builds one :class:`Server`."""

Backend = Engine  # the name the runner's ``backend=`` parameter has had since issue 10


@runtime_checkable
class ImportsAppElsewhere(Protocol):
    """An engine whose processes import the app themselves (the worker supervisor): the runner's
    process never does, and its health wrapper wraps no app."""

    imports_app: Literal[False]

    def __call__(self, wrapper: HealthWrapper, settings: Settings, on_fault: OnFault) -> Server:
        """Build the server."""
