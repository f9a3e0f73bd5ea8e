"""The one small interface between the runner and a server backend (DESIGN §5).

A backend is a callable ``backend(wrapper, settings, on_fault) -> Server`` building
one :class:`Server` for one lifecycle; ``wrapper`` is the runner's
:class:`~resync_fsm.web.health.HealthWrapper` around the app. The runner starts it in ``serving``, asks
it to shut down in ``draining``, and bounds the wait by its ``drain_budget``. The
runner imports this module, never a backend: a worker pool or another server
slots in behind the same interface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import trio

from ..settings.model import Settings

if TYPE_CHECKING:
    from ..web.health import HealthWrapper

__all__ = ["Backend", "Server", "Supervisor"]


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
        """Close the listeners and let in-flight work finish (Hypercorn's shutdown trigger).

        A server may also offer ``abort()``: cut every connection at once, called before its
        task is cancelled when the drain budget ran out or a stop was forced."""


class Supervisor(Server, Protocol):
    """A :class:`Server` of several processes (``server.workers > 1``, :mod:`.workers`): the runner uses
    these methods when the server has them (``getattr``), and a backend whose ``imports_app`` is false
    gets a health wrapper around no app (the processes import it)."""

    async def reload(self) -> None:
        """SIGHUP: replace every process with one running a fresh import of the app; the old ones drain
        only once the new ones serve; a new set that fails to start is discarded (logged)."""

    def view_changed(self) -> None:
        """The runner's state or readiness may have changed: carry it to every process now."""

    def workers(self) -> list[dict[str, object]]:
        """The processes for ``/status``: pid, generation, state, uptime, requests, restarts."""


# on_fault(error): an error while serving (the app's lifespan died) that must drain, then fail.
Backend = Callable[["HealthWrapper", Settings, Callable[[BaseException], None]], Server]
