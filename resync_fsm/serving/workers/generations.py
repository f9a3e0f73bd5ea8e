"""Generations of worker processes: a reload (SIGHUP) and a recycle (``max_requests``), capacity kept.

Both start the replacement first and drain what it replaces only once the
replacement serves (its lifespan startup completed): Gunicorn's recycling, with
no dip in capacity (issue 17). A replacement that cannot start leaves the old
workers serving, and says why. Functions over the :class:`~.pool.WorkerPool`
they supervise with, through its public face (:class:`Pool`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

import trio

from ...logs import get_logger
from .process import Worker

__all__ = ["Pool", "discard", "recycle", "reload", "retire", "wait_ready"]


class Pool(Protocol):
    """What a generation change needs of the supervisor (:class:`~.pool.WorkerPool`)."""

    size: int
    generation: int
    current: list[Worker]
    restarts: list[int]
    started: bool
    stopping: bool
    reloading: bool
    reload_queued: bool  # a SIGHUP arrived during a reload: one more follows it
    reload_ended: trio.Event  # set when the reload under way ends

    def start(self, slot: int, generation: int | None = None) -> Worker:
        """Start a supervised worker in ``slot``."""
        ...

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()`` (raises the crash loop's error if one happens first)."""
        ...

log = get_logger("resync_fsm.workers")


async def reload(pool: Pool) -> None:
    """SIGHUP: start a new generation; once all of it serves, drain the old one (else keep it). One
    arriving during a reload is queued and runs once that one ended (returning when it has, so that
    systemd hears ``READY=1`` after it): SIGHUPs are not lost, nor do they pile up (a third, with one
    queued, is already covered by the queued one: logged and ignored)."""
    if pool.stopping or not pool.started:
        log.warning("reload_ignored", reason="not serving")
        return
    if pool.reloading:
        if pool.reload_queued:
            log.warning("reload_ignored", reason="a reload is under way and one more is queued")
            return
        pool.reload_queued = True
        log.info("reload_queued", reason="a reload is under way: this one follows it")
        await pool.reload_ended.wait()
        pool.reload_queued = False
        if pool.stopping:
            return
    pool.reloading, pool.reload_ended = True, trio.Event()
    try:
        await _new_generation(pool)
    finally:
        pool.reloading = False
        pool.reload_ended.set()


async def _new_generation(pool: Pool) -> None:
    generation = pool.generation + 1
    log.info("reload_started", generation=generation, workers=pool.size)
    new = [pool.start(slot, generation) for slot in range(pool.size)]
    failure = await wait_ready(pool, new)
    if failure is not None:
        discard(new)
        if pool.stopping:  # a stop arrived: the new generation was discarded, it did not fail
            log.info("reload_abandoned", generation=generation, reason="the service is stopping")
            return
        log.error("reload_failed", generation=generation, reason=failure, serving_generation=pool.generation)
        return
    old, pool.current, pool.generation = pool.current, new, generation
    await retire(old)
    log.info("reload_finished", generation=generation, pids=[w.pid for w in new])


async def recycle(pool: Pool, old: Worker) -> None:
    """``old`` served its max_requests: its replacement first, then its drain."""
    if old.recycling or old.retiring or pool.stopping or pool.reloading or old not in pool.current:
        return
    old.recycling = True
    new = pool.start(old.slot)
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


async def wait_ready(pool: Pool, workers: list[Worker]) -> str | None:
    """``None`` once every one of ``workers`` serves; else why one cannot (it exited)."""
    await pool.until(lambda: all(w.ready.is_set() for w in workers) or any(w.exited.is_set() for w in workers))
    dead = next((w for w in workers if w.exited.is_set()), None)
    if dead is None:
        return None
    return f"worker {dead.pid} exited before serving" + (f": {dead.failed}" if dead.failed else "")


async def retire(workers: Iterable[Worker]) -> None:
    """Send ``retire`` to each of ``workers``: it stops accepting, answers the connections it accepted
    (their requests, however late, within graceful_timeout), then drains (:mod:`.child`)."""
    for worker in workers:
        worker.retiring = True
        if worker.channel is not None:
            await worker.channel.send({"retire": True})


def discard(workers: list[Worker]) -> None:
    """Kill each of ``workers`` (a generation that cannot start), marked as retiring."""
    for worker in workers:
        worker.retiring = True
        worker.kill()
