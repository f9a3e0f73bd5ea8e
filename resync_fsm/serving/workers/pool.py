"""``server.workers > 1``: a supervisor behind the :class:`~resync_fsm.serving.interface.Server` interface (issue 17).

The runner's process validates and probes once; this server then binds every listener itself
(the sockets outlive any worker, as socket activation's do) and keeps ``server.workers`` worker
processes (:mod:`.child`) serving on them, each with an in-process engine on ``server.loop``.
Readiness stays the lifecycle's: every change of the runner's view (:meth:`WorkerPool.view_changed`)
and every heartbeat carries it to every worker, whose ``/readyz`` answers from it.

- A worker that dies is logged and replaced after a capped backoff (:mod:`.crash_loop`);
  ``crash_loop_deaths`` deaths within ``crash_loop_seconds`` is a crash loop: a :class:`StartupError`
  (exit 70) before serving, a fault (drain, then ``failed``) after. The heartbeat: :mod:`.heartbeat`.
- ``max_requests`` and :meth:`reload` (SIGHUP): see :mod:`.generations`.
- :meth:`shutdown`: ``drain`` to every worker at once; stragglers past the drain budget are killed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import trio

from ...errors import StartupError
from ...logs import get_logger
from ...settings.model import Settings
from ...web.health import HealthWrapper
from ...web.view import HealthView
from ..binding import Listeners, bind_all, close_all, socket_options, urls_of
from ..interface import OnFault
from . import generations, heartbeat, watching
from .counts import shared_table
from .crash_loop import CrashLoop, recycle_limit
from .process import Worker, describe_exit, reap, worker_settings

__all__ = ["EXIT_ALLOWANCE", "WorkerPool"]

log = get_logger("resync_fsm.workers")

EXIT_ALLOWANCE = 0.5  # seconds a drained worker gets to exit (and a killed one to be reaped)
START_ALLOWANCE = 30.0  # seconds for a worker's interpreter and the app's import, beyond server.startup_timeout


class WorkerPool:
    """The supervisor (a :class:`~resync_fsm.serving.interface.Supervisor`): ``wrapper`` is the runner's
    health wrapper, whose ``view`` every worker answers from.

    ``started`` (every first worker serves), ``stopping`` (a shutdown began), ``reloading`` (a reload
    is under way), :meth:`start` and :meth:`until` are what :mod:`.generations` drives it with."""

    def __init__(self, wrapper: HealthWrapper, settings: Settings, on_fault: OnFault) -> None:
        self.view: HealthView = wrapper.view
        self.settings, self.on_fault = settings, on_fault
        server = settings.server
        self.size = server.workers
        self.crash_loop = CrashLoop(server.crash_loop_deaths, server.crash_loop_seconds)
        self.generation = 1
        self.current: list[Worker] = []  # the serving set: what counts as capacity
        self.live: set[Worker] = set()  # every process not yet reaped
        self.restarts = [0] * self.size
        self._stop, self.stopping, self.started, self.reloading = trio.Event(), False, False, False
        self.last_reload: dict[str, Any] | None = None
        self.reload_queued, self.reload_ended = False, trio.Event()
        self.table, self._view_seq = shared_table(), 0
        self._error: StartupError | None = None
        self._wake = trio.Event()
        self._nursery: trio.Nursery | None = None
        self._fds: list[int] = []
        self._sockets = Listeners()
        self._child_settings = settings
        self.ping = 0  # the last heartbeat (or view delivery) sent

    @property
    def drain_budget(self) -> float:
        """Seconds from shutdown() to the last worker's exit, at most (see the Server interface)."""
        server = self.settings.server
        return server.graceful_timeout + server.shutdown_timeout + 2 * EXIT_ALLOWANCE

    async def serve(self, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        """Bind in the parent, start the workers, supervise them until shut down (see the Server interface)."""
        sockets = bind_all(socket_options(self.settings), self.settings.server.bind)
        self._sockets = sockets
        self._fds = [s.fileno() for s in sockets.sockets]
        self._child_settings = worker_settings(self.settings, self._fds)
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self.current = [self.start(slot) for slot in range(self.size)]
                await self.until(lambda: len(self.current) == self.size
                                  and all(w.ready.is_set() for w in self.current))
                self.started = True
                log.info("workers_serving", workers=self.size, pids=[w.pid for w in self.current])
                task_status.started(urls_of(sockets))
                nursery.start_soon(heartbeat.beat, self)
                if self.settings.server.reload:
                    nursery.start_soon(watching.reload_on_change, self, watching.changes(self.settings.server))
                await self._stop.wait()
                await self._drain_all()
                nursery.cancel_scope.cancel()
        finally:
            self._nursery = None  # closed: nothing more to tell the workers
            with trio.CancelScope(shield=True):
                await reap(self.live, EXIT_ALLOWANCE * 4)
            close_all(sockets)

    def shutdown(self) -> None:
        """Fan the drain out: every worker closes its listener and finishes its in-flight work."""
        self.stopping = True
        self._stop.set()

    def view_changed(self) -> None:
        """The runner's state or readiness may have changed: tell every worker now."""
        if self._nursery is not None and not self._stop.is_set():
            self._nursery.start_soon(self.broadcast, {"view": self.view_message()})

    async def view_delivered(self) -> None:
        """Every serving worker holds the runner's current view (:func:`.heartbeat.deliver_view`)."""
        await heartbeat.deliver_view(self)

    def workers(self) -> list[dict[str, Any]]:
        """Every worker process, for ``/status`` (see :meth:`Worker.as_status`)."""
        counted, order = self.table.by_pid() if self.table is not None else {}, sorted(self.live, key=Worker.order)
        return [w.as_status(self.restarts[w.slot], counted) for w in order]

    async def reload(self) -> None:
        """SIGHUP (or a change, with ``server.reload``): start a new generation; once all of it serves,
        drain the old one (else keep it)."""
        await generations.reload(self)

    def reload_status(self) -> dict[str, Any] | None:
        """The last reload's outcome for ``/status`` (generation, ok, error, at, serving_generation)."""
        return self.last_reload

    def start_soon(self, fn: Callable[..., Awaitable[object]], *args: Any) -> None:
        """``fn(*args)`` in the pool's nursery (while it serves)."""
        assert self._nursery is not None
        self._nursery.start_soon(fn, *args)

    # --- workers -----------------------------------------------------------------
    def start(self, slot: int, generation: int | None = None) -> Worker:
        """Start a worker in ``slot`` (of ``generation``, the current one by default), supervised from now on."""
        server = self.settings.server
        worker = Worker(slot, generation or self.generation, recycle_limit(server.max_requests,
                                                                           server.max_requests_jitter))
        self.live.add(worker)
        assert self._nursery is not None
        self._nursery.start_soon(self._run, worker)
        return worker

    async def _run(self, worker: Worker) -> None:
        """Spawn ``worker``, read its messages until its channel closes, reap it, act on its exit."""
        try:
            await worker.spawn(self._child_settings, self._fds, self.view_message(), self.table)
        except OSError as exc:
            worker.failed = f"cannot start a worker process: {exc}"
        if worker.channel is not None:
            assert self._nursery is not None
            self._nursery.start_soon(worker.kill_unless_ready, self.settings.server.startup_timeout + START_ALLOWANCE)
            async for message in worker.channel.messages():
                worker.last_heard = trio.current_time()
                if "ready" in message:
                    worker.ready.set()
                    self._notify()
                    self.view_changed()  # /status lists it
                worker.requests = message.get("requests", message.get("recycle", worker.requests))
                if "pong" in message:
                    worker.pong = max(worker.pong, message["pong"])
                    self._notify()
                if "recycle" in message:
                    self._nursery.start_soon(generations.recycle, self, worker)
                worker.failed = message.get("failed", worker.failed)
                worker.traceback = message.get("traceback", worker.traceback)
            await worker.channel.aclose()
        code = await worker.process.wait() if worker.process is not None else 1
        self.live.discard(worker)
        worker.exited.set()
        self._exited(worker, code)
        self._notify()
        self.view_changed()

    def _exited(self, worker: Worker, code: int) -> None:
        how = describe_exit(code)
        fields = {"pid": worker.pid, "generation": worker.generation, "exit": how}
        if worker.retiring or self.stopping:
            log.info("worker_exited", **fields, requests=worker.requests)
            return
        if worker not in self.current:  # a new generation's or a recycle's: that says why, once
            log.info("worker_exited", **fields, requests=worker.requests)
            return
        log.warning("worker_died", **fields, reason=worker.failed)
        if self._error is not None:
            return
        self.current.remove(worker)
        if self.crash_loop.record(trio.current_time()):
            self._crash_loop(worker, how)
            return
        self.restarts[worker.slot] += 1
        assert self._nursery is not None
        self._nursery.start_soon(self._replace, worker.slot, self.crash_loop.backoff())

    def _crash_loop(self, worker: Worker, how: str) -> None:
        self._error = self.crash_loop.error(worker.pid, how, worker.failed)
        self._notify()
        if self.started:
            self.on_fault(self._error)

    async def _replace(self, slot: int, delay: float) -> None:
        await trio.sleep(delay)
        if not self.stopping and self._error is None:
            self.current.append(self.start(slot))

    # --- the heartbeat, the view, the drain ----------------------------------------
    def view_message(self) -> dict[str, Any]:
        """The runner's view as the workers get it (``live``, ``ready``, ``status``), numbered (``seq``): a
        worker ignores one older than the last it applied (broadcasts are sent by concurrent tasks)."""
        self._view_seq += 1
        return {"seq": self._view_seq, "live": list(self.view.live()), "ready": list(self.view.ready()),
                "status": self.view.status()}

    async def broadcast(self, message: dict[str, Any]) -> None:
        """Send ``message`` to every live worker."""
        for worker in list(self.live):
            if worker.channel is not None:
                await worker.channel.send(message)

    async def _drain_all(self) -> None:
        server = self.settings.server
        await self.broadcast({"view": self.view_message(), "drain": True})
        close_all(self._sockets)  # once the workers close theirs, connections are refused (as in-process)
        for worker in list(self.live):
            if not worker.ready.is_set():
                worker.kill()  # still starting: nothing to drain
        with trio.move_on_after(server.graceful_timeout + server.shutdown_timeout + EXIT_ALLOWANCE):
            await self.until(lambda: not self.live)
        if self.live:
            log.warning("workers_killed", pids=[w.pid for w in self.live], reason="past the drain budget")

    def _notify(self) -> None:
        self._wake.set()
        self._wake = trio.Event()

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()``; raises the crash loop's error if one happens first."""
        while True:
            if self._error is not None and not self.started:
                raise self._error
            if condition():
                return
            await self._wake.wait()
