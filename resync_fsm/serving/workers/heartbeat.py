"""The supervisor's heartbeat (issue 17): a ping to every worker each second (or a third of the timeout),
and a serving worker whose answers stopped for ``server.worker_heartbeat_timeout`` killed, as Gunicorn's
``--timeout`` kills a worker whose loop is blocked."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import trio

from ...logs import get_logger
from .process import Worker

__all__ = ["heartbeat"]

log = get_logger("resync_fsm.workers")


async def heartbeat(unanswered: float, live: Iterable[Worker], ping: Callable[[int], None]) -> None:
    """Every ``min(1, unanswered / 3)`` seconds: kill each worker of ``live`` that serves, is not retiring,
    and was last heard from more than ``unanswered`` seconds ago (trio's clock), then ``ping(n)`` (the
    ``n``-th ping, sent with the view to every worker). Runs until cancelled."""
    count, timeout = 0, unanswered
    while True:
        await trio.sleep(min(1.0, timeout / 3))
        count += 1
        now = trio.current_time()
        for worker in list(live):
            if worker.ready.is_set() and not worker.retiring and now - worker.last_heard > timeout:
                log.warning("worker_unresponsive", pid=worker.pid, timeout=timeout, action="killing it")
                worker.failed = f"no heartbeat answer for {timeout:g} s (server.worker_heartbeat_timeout)"
                worker.kill()
        ping(count)
