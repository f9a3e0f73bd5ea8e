"""The supervisor's heartbeat and view delivery (:mod:`.pool`): each ping carries the runner's view, and a
worker applies the view before it answers the ping, so a ``pong`` of n says it holds view n or a later one.

- :func:`beat`: every ``min(1, worker_heartbeat_timeout / 3)`` s a ping to every worker; one serving
  worker unheard for ``worker_heartbeat_timeout`` s is killed (the pool replaces it).
- :func:`deliver_view`: a ping now, then wait until every serving worker answered it: what the pool's
  ``view_delivered()`` does before anything says ready (issue 24).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import trio

from ...logs import get_logger
from ...settings.model import Settings
from .process import Worker

__all__ = ["Beating", "beat", "deliver_view"]


class Beating(Protocol):
    """What the heartbeat needs of the supervisor (:class:`~.pool.WorkerPool`)."""

    settings: Settings
    ping: int  # the last ping sent
    live: set[Worker]
    current: list[Worker]

    def view_message(self) -> dict[str, Any]:
        """The runner's view, numbered, as the workers take it."""
        ...

    async def broadcast(self, message: dict[str, Any]) -> None:
        """Send ``message`` to every live worker."""
        ...

    def start_soon(self, fn: Callable[..., Awaitable[object]], *args: Any) -> None:
        """``fn(*args)`` in the supervisor's nursery."""
        ...

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()``."""
        ...

log = get_logger("resync_fsm.workers")


async def beat(pool: Beating) -> None:
    """Ping every worker with the current view, forever; kill the serving ones that stopped answering."""
    timeout = pool.settings.server.worker_heartbeat_timeout
    while True:
        await trio.sleep(min(1.0, timeout / 3))
        pool.ping += 1
        now = trio.current_time()
        for worker in list(pool.live):
            if worker.ready.is_set() and not worker.retiring and now - worker.last_heard > timeout:
                log.warning("worker_unresponsive", pid=worker.pid, timeout=timeout, action="killing it")
                worker.failed = f"no heartbeat answer for {timeout:g} s (server.worker_heartbeat_timeout)"
                worker.kill()
        pool.start_soon(pool.broadcast, {"ping": pool.ping, "view": pool.view_message()})


async def deliver_view(pool: Beating) -> None:
    """Send the view with a ping to every worker; return once every serving one has answered it, at most
    ``worker_heartbeat_timeout`` s (one that does not answer is :func:`beat`'s to kill)."""
    pool.ping += 1
    ping = pool.ping
    await pool.broadcast({"ping": ping, "view": pool.view_message()})
    with trio.move_on_after(pool.settings.server.worker_heartbeat_timeout):
        await pool.until(lambda: all(w.pong >= ping or w.exited.is_set() or not w.ready.is_set()
                                     for w in pool.current))
