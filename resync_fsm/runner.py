"""The runner: one trio loop applying events from one channel to the lifecycle machine.

Activities and signal handling never change state: they post events. Each
state's activity runs in its own cancel scope, cancelled when the state is
left. The server is the one resource that outlives a state: started in
``serving``, it keeps accepting while ``draining`` waits ``drain_delay``, and
closes when draining fires its shutdown trigger.
"""

from __future__ import annotations

import gc
import math
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol

import attrs
import trio

from . import __version__
from .errors import DependencyUnavailableError, StartupError, exit_code_for, forced_exit_code
from .health import ASGIApp, HealthWrapper
from .lifecycle import Lifecycle, Move
from .logs import get_logger, symbol
from .notify import Notifier
from .probes import ProbeBoard, ProbeResult, probe_board, unavailable_error
from .settings.model import Settings

__all__ = ["Event", "Runner"]

log = get_logger("resync_fsm.runner")

Load = Callable[[], Awaitable[Settings]]
Probe = Callable[[ProbeBoard, Settings, float, bool], Awaitable[None]]


class Serve(Protocol):
    async def __call__(
        self,
        app: ASGIApp,
        settings: Settings,
        *,
        shutdown_trigger: Callable[[], Awaitable[None]],
        task_status: trio.TaskStatus[list[str]] = ...,
    ) -> None: ...


@attrs.frozen
class Event:
    name: str
    error: BaseException | None = None
    signum: int | None = None
    epoch: int | None = None  # the state visit that posted it; None: always current


async def default_probe(board: ProbeBoard, settings: Settings, deadline: float, settle: bool) -> None:
    await probe_board(board, deadline=deadline, until_settled=settle)


async def default_serve(app: ASGIApp, settings: Settings, **kwargs: Any) -> None:
    from .serving import serve_app  # Hypercorn only for the commands that serve

    await serve_app(app, settings, **kwargs)


def _root_error(exc: BaseException) -> BaseException:
    """The first StartupError inside nested exception groups, else the first leaf."""
    while isinstance(exc, BaseExceptionGroup):
        startup = exc.subgroup(StartupError)
        exc = (startup or exc).exceptions[0]
    return exc


class Runner:
    """Runs one lifecycle; ``await runner.run()`` returns the exit code."""

    def __init__(
        self,
        load: Load,
        *,
        probe: Probe = default_probe,
        serve: Serve = default_serve,
        app: ASGIApp | None = None,
        cleanup: Callable[[], None] | None = None,
        handle_signals: bool = True,
        history_size: int = 64,
        notifier: Notifier | None = None,
        freeze_gc: bool = False,
    ) -> None:
        self._load, self._probe, self._serve, self._app = load, probe, serve, app
        self._cleanup = cleanup
        self.notifier = notifier or Notifier()
        self._handle_signals = handle_signals
        self._freeze_gc = freeze_gc  # process-wide, so the CLI's choice; an embedding host opts in
        self.lifecycle = Lifecycle(history_size=history_size, now=trio.current_time)
        self.settings: Settings | None = None
        self.board = ProbeBoard(())
        self.error: BaseException | None = None
        self.forced_by: int | None = None
        self.binds: list[str] = []
        self.cleanups_run = 0
        self.listeners: list[Callable[[Move], None]] = [self.notifier.on_move]
        self.wrapper: HealthWrapper | None = None
        self._send: trio.MemorySendChannel[Event] | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._nursery: trio.Nursery
        self._pending: list[Event] = []
        self._epoch = 0
        self._activity = trio.CancelScope()
        self._server_scope = trio.CancelScope()
        self._shutdown = trio.Event()
        self._server_done = trio.Event()
        self._server_task = False
        self._changed = trio.Event()
        self._started_wall = time.time()

    # --- the public surface ---------------------------------------------------
    @property
    def state(self) -> str:
        return self.lifecycle.state

    @property
    def exit_code(self) -> int:
        if self.state == "failed":
            return exit_code_for(self.error or StartupError("failed"))
        if self.forced_by is not None:
            return forced_exit_code(self.forced_by)
        return 0

    def request_drain(self, signum: int | None = None) -> None:
        """Ask for a graceful stop (as SIGTERM does); call from the runner's trio thread."""
        self._post(Event("drain", signum=signum))

    def request_drain_from_thread(self) -> None:
        """:meth:`request_drain` from any other thread (a host embedding the runner off the main
        thread, where it cannot receive signals itself)."""
        if self._token is None:
            raise RuntimeError("the runner is not running")
        trio.from_thread.run_sync(self.request_drain, trio_token=self._token)

    def fail(self, error: BaseException) -> None:
        self._post(Event("fail", error=error))

    async def wait_for_state(self, name: str) -> None:
        """Return once the lifecycle is in ``name`` (or has ended elsewhere)."""
        while self.state != name and not self.lifecycle.is_final:
            await self._changed.wait()

    def failure_line(self) -> str | None:
        """The one line a failed run prints on stderr."""
        if self.state != "failed" or self.error is None:
            return None
        if isinstance(self.error, StartupError):
            return self.error.one_line()
        return f"StartupError: unexpected {type(self.error).__name__}: {self.error}"

    # HealthView
    def live(self) -> tuple[bool, str]:
        return self.state != "failed", self.state

    def ready(self) -> tuple[bool, str]:
        ok = self.state == "serving" and bool(self.binds) and self.board.critical_ok
        return ok, self.state

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "since": self.lifecycle.since_wall,
            "uptime": round(time.time() - self._started_wall, 3),
            "version": __version__,
            "ready": self.ready()[0],
            "binds": self.binds,
            "history": [move.as_dict() for move in self.lifecycle.history],
            "probes": self.board.as_list(),
        }

    # --- the loop ---------------------------------------------------------------
    async def run(self) -> int:
        send, receive = trio.open_memory_channel[Event](math.inf)
        self._send = send
        self._token = trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            if self._handle_signals:
                await self._start_signal_watch(nursery)
            nursery.start_soon(self.notifier.serve_watchdog)
            send.send_nowait(Event("start"))
            for event in self._pending:
                send.send_nowait(event)
            async for event in receive:
                self._apply(event)
                if self.lifecycle.is_final:
                    break
            nursery.cancel_scope.cancel()
        return self.exit_code

    def _post(self, event: Event) -> None:
        if self._send is None:
            self._pending.append(event)  # before run(): applied right after `start`
        else:
            self._send.send_nowait(event)

    def _apply(self, event: Event) -> None:
        if event.epoch is not None and event.epoch != self._epoch:
            log.debug("stale_event_ignored", event_name=event.name, state=self.state)
            return
        move = self.lifecycle.apply(event.name)
        if move is None:
            log.info("event_ignored", event_name=event.name, state=self.state,
                     reason="not legal in this state")
            return
        if event.name == "fail":
            self.error = _root_error(event.error) if event.error else StartupError("failed")
        if event.name == "drain" and move.source == "draining":
            self.forced_by = event.signum if event.signum is not None else signal.SIGTERM
        self._epoch += 1
        self._activity.cancel()
        log.info("state_transition", **{"from": move.source, "to": move.dest},
                 event_name=move.event, elapsed=round(move.elapsed, 6))
        for listener in self.listeners:
            listener(move)
        self._changed.set()
        self._changed = trio.Event()
        if self.lifecycle.is_final:
            self._finish()
            return
        activity = getattr(self, f"_{move.dest}", None)
        if activity is not None:
            self._activity = trio.CancelScope()
            self._nursery.start_soon(self._run_activity, self._activity, activity, self._epoch)

    async def _run_activity(
        self, scope: trio.CancelScope, activity: Callable[..., Awaitable[None]], epoch: int
    ) -> None:
        post = partial(self._post_from, epoch)
        with scope:
            try:
                await activity(post)
            except Exception as exc:  # any startup error, or a bug: the lifecycle fails
                post("fail", error=exc)

    def _post_from(self, epoch: int, name: str, **kw: Any) -> None:
        self._post(Event(name, epoch=epoch, **kw))

    def _finish(self) -> None:
        """On a final state: stop what runs, clean up once, report a failure."""
        self._server_scope.cancel()
        if self._freeze_gc:
            gc.unfreeze()
        self.cleanups_run += 1
        if self._cleanup is not None:
            self._cleanup()
        if self.state == "stopped":
            log.info("stopped", forced=self.forced_by is not None, exit_code=self.exit_code)
            return
        error = self.error
        event = error.log_event if isinstance(error, StartupError) else "startup_error"
        fields: dict[str, Any] = {
            "error_type": type(error).__name__,
            "error_message": getattr(error, "message", str(error)),
            "error_details": getattr(error, "details", None),
            "status_symbol": symbol(False, sys.stdout),
            "exit_code": self.exit_code,
        }
        if isinstance(error, DependencyUnavailableError):
            fields["dependency"] = error.dependency
        if self.settings is not None and self.settings.log.level == "debug":
            fields["exc_info"] = error  # a traceback only at DEBUG
        log.error(event, **fields)

    async def _start_signal_watch(self, nursery: trio.Nursery) -> None:
        if threading.current_thread() is not threading.main_thread():
            log.info("signals_not_handled", reason="not the main thread; use request_drain()")
            return
        await nursery.start(self._watch_signals)

    async def _watch_signals(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            task_status.started()
            async for signum in signals:
                log.info("signal_received", signal=signal.Signals(signum).name, state=self.state)
                self.request_drain(signum)

    # --- one activity per state (named after it) ---------------------------------
    async def _validating(self, post: Callable[..., None]) -> None:
        self.settings = await self._load()
        for warning in self.settings.warnings():
            log.warning("settings_warning", warning=warning)
        post("settings_valid")

    async def _probing(self, post: Callable[..., None]) -> None:
        settings = self._settings()
        self.board = board = ProbeBoard(settings.probes)
        board.listeners.append(_probe_logger())
        timeout = settings.startup.timeout
        await self._probe(board, settings, trio.current_time() + timeout, True)
        if not board.critical_ok:
            if settings.startup.fail_fast:
                raise unavailable_error(board, timeout)
            log.warning("serving_not_ready", reason="critical probes failing; retrying",
                        probes=[r.name for r in board.results.values() if r.critical and not r.ok])
        post("probes_passed")

    async def _serving(self, post: Callable[..., None]) -> None:
        settings = self._settings()
        if self._app is not None:
            app = self._app
        else:
            from .serving import load_app

            app = load_app(settings.server.app, factory=settings.server.factory)
        self.wrapper = HealthWrapper(
            app, self, livez=settings.server.livez_path,
            readyz=settings.server.readyz_path, status=settings.server.status_path,
        )
        self._server_task = True
        if self._freeze_gc:
            # Everything imported and built so far lives as long as the process. Frozen, a full
            # collection while serving no longer walks it: measured under load, 20-29 ms pauses
            # became 2-3 ms (bench/gcpause.py logs them). Unfrozen on a final state: exit collects as usual.
            gc.freeze()
        self._nursery.start_soon(self._run_server, self.wrapper, settings)
        async with trio.open_nursery() as nursery:
            if not all(result.ok for result in self.board.results.values()):
                nursery.start_soon(self._retry_until_ok, settings)
            if settings.server.watch_interval > 0:
                nursery.start_soon(self._watch, settings)

    async def _retry_until_ok(self, settings: Settings) -> None:
        """Keep probing what failed at startup: a non-critical probe so that /status tells the truth,
        a critical one (--no-fail-fast) so that readiness turns true when it passes."""
        was_ready = self.board.critical_ok
        await self._probe(self.board, settings, math.inf, False)
        if not was_ready:
            log.info("readiness_changed", ready=self.board.critical_ok, reason="critical probes pass")

    async def _watch(self, settings: Settings) -> None:
        """Re-run the critical probes every watch_interval; readiness (never liveness) follows."""
        critical = [spec for spec in settings.probes if spec.critical]
        while critical:
            await trio.sleep(settings.server.watch_interval)
            was_ok = self.board.critical_ok
            round_board = ProbeBoard(critical)
            longest = max(spec.timeout for spec in critical)
            await self._probe(round_board, settings, trio.current_time() + longest, True)
            for result in round_board.results.values():
                self.board.update(result)
            if self.board.critical_ok != was_ok:
                failing = [r.name for r in round_board.results.values() if not r.ok]
                log.warning("readiness_changed", ready=self.board.critical_ok, failing=failing,
                            reason="watch: critical probes " + ("pass" if not failing else "fail"))

    async def _run_server(self, app: ASGIApp, settings: Settings) -> None:
        with self._server_scope:
            try:
                async with trio.open_nursery() as nursery:
                    self.binds = await nursery.start(
                        partial(self._serve, app, settings, shutdown_trigger=self._shutdown.wait)
                    )
                    log.info("listening", binds=self.binds)
                    if self.state == "serving":
                        self.notifier.send("READY=1\nSTATUS=serving")
                if not self._shutdown.is_set():
                    raise StartupError("the server stopped without being asked to")
            except Exception as exc:
                self._post(Event("fail", error=exc))
            finally:
                self._server_done.set()

    async def _draining(self, post: Callable[..., None]) -> None:
        if self._server_task:
            server = self._settings().server
            log.info("draining", drain_delay=server.drain_delay,
                     in_flight=self.wrapper.in_flight if self.wrapper else 0)
            await trio.sleep(server.drain_delay)
            self._shutdown.set()  # Hypercorn closes the listener; in-flight work finishes
            budget = server.graceful_timeout + server.shutdown_timeout + 1.0
            with trio.move_on_after(budget):
                await self._server_done.wait()
            if not self._server_done.is_set():
                log.warning("drain_overran", budget=budget)
                self._server_scope.cancel()
        post("drained")

    def _settings(self) -> Settings:
        assert self.settings is not None, "settings are loaded in validating"
        return self.settings


def _probe_logger() -> Callable[[ProbeResult], None]:
    """Logs each probe's changes (ok, or a new failure reason), not every retry of the same failure."""
    last: dict[str, tuple[str, str | None]] = {}

    def log_probe(result: ProbeResult) -> None:
        if last.get(result.name) == (result.status, result.reason):
            return
        last[result.name] = (result.status, result.reason)
        if result.ok:
            log.info("probe_ok", probe=result.name, kind=result.kind, target=result.target,
                     attempts=result.attempts, latency_ms=result.latency_ms)
        elif result.status == "fail":
            log.warning("probe_failed", probe=result.name, kind=result.kind, target=result.target,
                        critical=result.critical, attempts=result.attempts, reason=result.reason,
                        message=result.message)

    return log_probe
