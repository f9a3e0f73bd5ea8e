"""Generations of worker processes: a reload (SIGHUP) and a recycle (``max_requests``), capacity kept.

Both start the replacement first and drain what it replaces only once the
replacement serves (its lifespan startup completed): Gunicorn's recycling, with
no dip in capacity (issue 17). A replacement that cannot start leaves the old
workers serving, and says why. Functions over the :class:`~.workers.WorkerPool`
they supervise with.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..logs import get_logger
from .worker_process import Worker

if TYPE_CHECKING:
    from .workers import WorkerPool

__all__ = ["discard", "recycle", "reload", "retire", "wait_ready"]

log = get_logger("resync_fsm.workers")


async def reload(pool: WorkerPool) -> None:
    """SIGHUP: start a new generation; once all of it serves, drain the old one (else keep it)."""
    if pool._reloading or pool._stopping or not pool._started:
        log.warning("reload_ignored", reason="a reload is under way" if pool._reloading else "not serving")
        return
    pool._reloading = True
    try:
        generation = pool.generation + 1
        log.info("reload_started", generation=generation, workers=pool.size)
        new = [pool._start(slot, generation) for slot in range(pool.size)]
        failure = await wait_ready(pool, new)
        if failure is not None:
            discard(new)
            if pool._stopping:  # a stop arrived: the new generation was discarded, it did not fail
                log.info("reload_abandoned", generation=generation, reason="the service is stopping")
                return
            log.error("reload_failed", generation=generation, reason=failure, serving_generation=pool.generation)
            return
        old, pool.current, pool.generation = pool.current, new, generation
        await retire(old)
        log.info("reload_finished", generation=generation, pids=[w.pid for w in new])
    finally:
        pool._reloading = False


async def recycle(pool: WorkerPool, old: Worker) -> None:
    """``old`` served its max_requests: its replacement first, then its drain."""
    if old.recycling or old.retiring or pool._stopping or pool._reloading or old not in pool.current:
        return
    old.recycling = True
    new = pool._start(old.slot)
    failure = await wait_ready(pool, [new])
    if failure is not None:
        log.warning("recycle_failed", pid=old.pid, reason=failure, action="the worker keeps serving")
        discard([new])
        return
    if old not in pool.current:  # it died meanwhile and was replaced
        await retire([new])
        return
    pool.current[pool.current.index(old)] = new
    pool.restarts[old.slot] += 1
    log.info("worker_recycled", pid=old.pid, requests=old.requests, replacement=new.pid)
    await retire([old])


async def wait_ready(pool: WorkerPool, workers: list[Worker]) -> str | None:
    """``None`` once every one of ``workers`` serves; else why one cannot (it exited)."""
    await pool._until(lambda: all(w.ready.is_set() for w in workers) or any(w.exited.is_set() for w in workers))
    dead = next((w for w in workers if w.exited.is_set()), None)
    if dead is None:
        return None
    return f"worker {dead.pid} exited before serving" + (f": {dead.failed}" if dead.failed else "")


async def retire(workers: Iterable[Worker]) -> None:
    """Send ``retire`` to each of ``workers``: it stops accepting, answers the connections it accepted
    (their requests, however late, within graceful_timeout), then drains (:mod:`resync_fsm.worker`)."""
    for worker in workers:
        worker.retiring = True
        if worker.channel is not None:
            await worker.channel.send({"retire": True})


def discard(workers: list[Worker]) -> None:
    """Kill each of ``workers`` (a generation that cannot start), marked as retiring."""
    for worker in workers:
        worker.retiring = True
        worker.kill()
