"""Generations of worker processes: a reload (SIGHUP) and a recycle (``max_requests``), capacity kept.

Both start the replacement first and drain what it replaces only once the
replacement serves (its lifespan startup completed): Gunicorn's recycling, with
no dip in capacity (issue 17). A replacement that cannot start leaves the old
workers serving, and says why. Functions over the :class:`~.pool.WorkerPool`
they supervise with, through its public face (:class:`Pool`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import trio

from ...logs import get_logger
from .process import Worker

__all__ = ["Pool", "discard", "recycle", "reload", "retire", "wait_ready", "why"]


class Pool(Protocol):
    """What a generation change needs of the supervisor (:class:`~.pool.WorkerPool`)."""

    size: int
    generation: int
    current: list[Worker]
    restarts: list[int]
    started: bool
    stopping: bool
    reloading: bool
    last_reload: dict[str, Any] | None  # the last reload's outcome, for /status

    def view_changed(self) -> None:
        """Tell every worker the view (``/status``) changed."""
        ...
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
    dead = await wait_ready(pool, new)
    if dead is not None:
        discard(new)
        if pool.stopping:  # a stop arrived: the new generation was discarded, it did not fail
            log.info("reload_abandoned", generation=generation, reason="the service is stopping")
            return
        _failed(pool, generation, dead)
        return
    old, pool.current, pool.generation = pool.current, new, generation
    await retire(old)
    log.info("reload_finished", generation=generation, pids=[w.pid for w in new])
    _outcome(pool, generation, None)


def _failed(pool: Pool, generation: int, dead: Worker) -> None:
    """Say once why the new generation failed: its worker's line, and the traceback the worker formatted
    (the console renders it; JSON carries it as ``exception``); ``/status`` shows the line until the
    next reload serves."""
    reason = why(dead)
    extra = {"exception": dead.traceback} if dead.traceback else {}
    log.error("reload_failed", generation=generation, reason=reason, serving_generation=pool.generation, **extra)
    _outcome(pool, generation, reason)


def _outcome(pool: Pool, generation: int, error: str | None) -> None:
    pool.last_reload = {"generation": generation, "ok": error is None, "error": error, "at": time.time(),
                        "serving_generation": pool.generation}
    pool.view_changed()


async def recycle(pool: Pool, old: Worker) -> None:
    """``old`` served its max_requests: its replacement first, then its drain."""
    if old.recycling or old.retiring or pool.stopping or pool.reloading or old not in pool.current:
        return
    old.recycling = True
    new = pool.start(old.slot)
    dead = await wait_ready(pool, [new])
    if dead is not None:
        log.warning("recycle_failed", pid=old.pid, reason=why(dead), action="the worker keeps serving")
        discard([new])
        return
    if old not in pool.current:  # it died meanwhile and was replaced
        await retire([new])
        return
    pool.current[pool.current.index(old)] = new
    pool.restarts[old.slot] += 1
    log.info("worker_recycled", pid=old.pid, requests=old.requests, replacement=new.pid)
    await retire([old])


async def wait_ready(pool: Pool, workers: list[Worker]) -> Worker | None:
    """``None`` once every one of ``workers`` serves; else one that cannot (it exited: :func:`why`)."""
    await pool.until(lambda: all(w.ready.is_set() for w in workers) or any(w.exited.is_set() for w in workers))
    return next((w for w in workers if w.exited.is_set()), None)


def why(dead: Worker) -> str:
    """Why ``dead`` did not serve, in one line: its own failure line when it sent one."""
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
