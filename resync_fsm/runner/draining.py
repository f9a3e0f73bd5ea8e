"""``draining``: readiness false, ``drain_delay``, listeners close, in-flight work finishes (DESIGN §5).

Every stop is bounded: past the server's drain budget (graceful timeout +
lifespan shutdown timeout) plus :data:`MARGIN`, the server is cancelled and the
overrun logged. A stop that arrives while the app is still starting cancels the
startup instead: the listener never serves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio

from ..lifecycle import EventName, State
from ..logs import get_logger
from ..serving import ListsWorkers
from .activities import Post, activity

if TYPE_CHECKING:
    from .core import Runner

__all__ = ["MARGIN", "draining"]

log = get_logger("resync_fsm.runner")

MARGIN = 1.0  # seconds past the drain budget before the server is cancelled


@activity(State.DRAINING)
async def draining(runner: Runner, post: Post) -> None:
    """Drain the server if one runs, then post ``drained`` (or ``fail`` with a fault from serving)."""
    handle = runner.server
    if runner.wrapper is not None:
        runner.wrapper.draining = True  # from now on every HTTP/1.x response closes its connection
    if handle is not None and runner.settings is not None:
        server = runner.settings.server
        in_flight = _in_flight(runner)
        if handle.started:
            log.info("draining", drain_delay=server.drain_delay, in_flight=in_flight)
            await trio.sleep(server.drain_delay)
            handle.shutdown()
            budget = handle.server.drain_budget + MARGIN
        else:
            log.info("startup_cancelled", reason="a stop arrived while the app was starting")
            handle.cancel()
            budget = server.shutdown_timeout + MARGIN
        with trio.move_on_after(budget):
            await handle.done.wait()
        overran = not handle.done.is_set()
        # cut: cancelled at the graceful timeout inside the server, or still in flight at the budget's end
        cut = runner.wrapper.cut if runner.wrapper else 0
        if overran:
            in_flight = _in_flight(runner)
            bound = "server.graceful_timeout + server.shutdown_timeout" if handle.started else "server.shutdown_timeout"
            log.warning("drain_overran", budget=budget, in_flight=in_flight, action="cutting every connection",
                        bounded_by=bound)
            cut = max(cut, in_flight)
            handle.cancel()
        (log.warning if cut else log.info)("drain_finished", requests_cut=cut, overran=overran)
    if runner.ending.fault is not None:
        post(EventName.FAIL, error=runner.ending.fault)
    else:
        post(EventName.DRAINED)


def _in_flight(runner: Runner) -> int:
    """Requests in flight now: the health wrapper's in-process; with worker processes (a
    :class:`~resync_fsm.serving.ListsWorkers` server) the sum of theirs (issue 24)."""
    server = runner.server.server if runner.server else None
    if isinstance(server, ListsWorkers):
        return sum(int(worker.get("in_flight", 0)) for worker in server.workers())
    return runner.wrapper.in_flight if runner.wrapper else 0
