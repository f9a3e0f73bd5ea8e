"""The event loop: one trio channel of events, applied one at a time to the lifecycle machine.

Activities and signal handling never change state: they post :class:`Event` s
(DESIGN §1). Entering a state cancels the previous state's activity and starts
the new one, looked up in the registry of :mod:`.activities`. The server is the
one resource that outlives a state (started in ``serving``, shut down in
``draining``): it lives in :class:`~.serving.ServerHandle`, in its own scope.
What the activities learn of the ending is kept in one :class:`~.outcome.Ending`;
what ``web/`` reads goes through :class:`~.status.RunnerView`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import trio

from ..lifecycle import EventName, Lifecycle, Move, State
from ..logs import get_logger
from ..notify import Notifier
from ..probes import ProbeBoard
from ..serving import Backend
from ..settings.model import Settings
from ..web.asgi import ASGIApp
from . import outcome, signals
from .activities import Activity, activity_for
from .events import Event, Load, Probe, default_probe
from .outcome import Ending
from .status import RunnerView

if TYPE_CHECKING:
    from ..web.health import HealthWrapper
    from ..web.metrics import RunnerMetrics
    from .serving import ServerHandle

__all__ = ["Event", "Load", "Probe", "Runner"]

log = get_logger("resync_fsm.runner")


class Runner:
    """Runs one lifecycle; ``await runner.run()`` returns the exit code (DESIGN §1, §2).

    ``load`` returns validated :class:`Settings` (raising
    :class:`~resync_fsm.errors.ConfigurationValidationError`); ``probe`` runs the
    probes; ``backend`` builds the server (default: the one for ``server.loop``);
    ``app`` overrides ``server.app``; ``cleanup`` runs once on a final state.
    ``handle_signals`` watches SIGTERM/SIGINT/SIGQUIT/SIGHUP/SIGUSR1/SIGUSR2 (main
    thread only; see :mod:`.signals`). ``freeze_gc`` freezes start-up objects while
    serving (process-wide, so the CLI's choice).
    """

    def __init__(
        self,
        load: Load,
        *,
        probe: Probe = default_probe,
        backend: Backend | None = None,
        app: ASGIApp | None = None,
        cleanup: Callable[[], None] | None = None,
        handle_signals: bool = True,
        history_size: int = 64,
        notifier: Notifier | None = None,
        freeze_gc: bool = False,
    ) -> None:
        self.load, self.probe, self.backend, self.app = load, probe, backend, app
        self._cleanup = cleanup
        self.notifier = notifier or Notifier()
        self._handle_signals = handle_signals
        self.freeze_gc = freeze_gc
        self.lifecycle = Lifecycle(history_size=history_size, now=trio.current_time)
        self.settings: Settings | None = None
        self.board = ProbeBoard(())
        self.ending = Ending()
        self.view = RunnerView(self)  # what web/ reads: the health endpoints, /status, /metrics
        self.cleanups_run = 0
        self.listeners: list[Callable[[Move], None]] = [self.notifier.on_move]
        self.server: ServerHandle | None = None
        self.metrics: RunnerMetrics | None = None  # built in validating when server.metrics is on
        self.loop_name = "trio"  # the app's loop, once known
        self.started_wall = time.time()
        self._send: trio.MemorySendChannel[Event] | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._nursery: trio.Nursery | None = None
        self._pending: list[Event] = []
        self._epoch = 0
        self._activity = trio.CancelScope()
        self._changed = trio.Event()

    # --- the public surface ---------------------------------------------------
    @property
    def state(self) -> State:
        """The current state (a :class:`~resync_fsm.lifecycle.State`, equal to its name)."""
        return self.lifecycle.state

    @property
    def handles_signals(self) -> bool:
        """Whether this runner watches the process's signals (``handle_signals``; see :mod:`.signals`)."""
        return self._handle_signals

    @property
    def error(self) -> BaseException | None:
        """What the lifecycle failed with (``None`` unless ``failed``)."""
        return self.ending.error

    @property
    def wrapper(self) -> HealthWrapper | None:
        """The health wrapper around the app, once ``serving`` composed it."""
        serving = self.server.serving if self.server is not None else None
        return serving.wrapper if serving is not None else None

    @property
    def exit_code(self) -> int:
        """The process exit code this lifecycle ends with (DESIGN §2)."""
        return outcome.exit_code(self)

    @property
    def binds(self) -> list[str]:
        """The URLs the server listens on, once every listener accepts; empty before."""
        return self.server.urls if self.server is not None else []

    @property
    def nursery(self) -> trio.Nursery:
        """The run's nursery, for tasks that outlive one state (the server)."""
        assert self._nursery is not None, "the runner is not running"
        return self._nursery

    def request_drain(self, signum: int | None = None, *, force: bool = False) -> None:
        """Ask for a graceful stop, as SIGTERM does; call from the runner's trio thread.

        A repeated request stays graceful; ``force=True`` while draining stops at once
        (exit 128 + ``signum``, SIGTERM's number when none is given).
        """
        self.ending.stop_requested = True
        self.post(Event(EventName.DRAIN, signum=signum, force=force))

    def request_drain_from_thread(self, *, force: bool = False) -> None:
        """:meth:`request_drain` from any other thread (a host embedding the runner off the main
        thread, where it cannot receive signals). Raises RuntimeError when not running."""
        if self._token is None:
            raise RuntimeError("the runner is not running")
        trio.from_thread.run_sync(lambda: self.request_drain(force=force), trio_token=self._token)

    def request_reload(self) -> None:
        """SIGHUP: ask a server of worker processes to reload (``server.workers > 1``), telling systemd
        ``RELOADING=1`` then ``READY=1`` (``Type=notify-reload``); otherwise logged and ignored.
        The state stays ``serving`` throughout: a reload never stops serving."""
        signals.reload(self)

    def fail(self, error: BaseException) -> None:
        """End the lifecycle in ``failed`` with ``error`` (its exit code, DESIGN §2)."""
        self.post(Event(EventName.FAIL, error=error))

    def fault_while_serving(self, error: BaseException) -> None:
        """An error while serving (the app's lifespan died): drain, then end ``failed`` with it."""
        if self.ending.fault is None:
            self.ending.fault = error
        self.post(Event(EventName.DRAIN, error=error))

    async def wait_for_state(self, name: State) -> None:
        """Return once the lifecycle is in ``name`` (or has ended elsewhere)."""
        while self.state != name and not self.lifecycle.is_final:
            await self._changed.wait()

    def failure_line(self) -> str | None:
        """The one line a failed or forced stop prints on stderr; ``None`` after a graceful stop."""
        return outcome.failure_line(self)

    def live(self) -> tuple[bool, str]:
        """Liveness and the state (:meth:`RunnerView.live <resync_fsm.runner.status.RunnerView.live>`)."""
        return self.view.live()

    def ready(self) -> tuple[bool, str]:
        """Readiness and the state (:meth:`RunnerView.ready <resync_fsm.runner.status.RunnerView.ready>`)."""
        return self.view.ready()

    def status(self) -> dict[str, Any]:
        """The ``/status`` document (:func:`resync_fsm.runner.status.status_document`)."""
        return self.view.status()

    # --- the loop ---------------------------------------------------------------
    async def run(self) -> int:
        """Run the lifecycle from ``created`` to a final state; return the exit code."""
        send, receive = trio.open_memory_channel[Event](math.inf)
        self._send = send
        self._token = trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            send.send_nowait(Event(EventName.START))  # first: a signal kept from before acts on a started lifecycle
            if self._handle_signals:
                await signals.start_watching(self, nursery)
            nursery.start_soon(self.notifier.serve_watchdog)
            for event in self._pending:
                send.send_nowait(event)
            async for event in receive:
                self._apply(event)
                if self.lifecycle.is_final:
                    break
            nursery.cancel_scope.cancel()
        return self.exit_code

    def post(self, event: Event) -> None:
        """Queue ``event`` for the loop (before :meth:`run`: applied right after ``start``)."""
        if self._send is None:
            self._pending.append(event)
        else:
            self._send.send_nowait(event)

    def _apply(self, event: Event) -> None:
        if event.epoch is not None and event.epoch != self._epoch:
            log.debug("stale_event_ignored", event_name=event.name, state=self.state)
            return
        if event.name == EventName.DRAIN and self.state == State.DRAINING and not event.force:
            log.info("event_ignored", event_name=event.name, state=self.state,
                     reason="already draining; a repeated stop stays graceful")
            return
        move = self.lifecycle.apply(event.name)
        if move is None:
            log.info("event_ignored", event_name=event.name, state=self.state, reason="not legal in this state")
            return
        self.ending.note(move, event.error, event.signum)
        self._epoch += 1
        self._activity.cancel()
        log.info("state_transition", **{"from": move.source, "to": move.dest},
                 event_name=move.event, elapsed=round(move.elapsed, 6))
        for listener in self.listeners:
            listener(move)
        self._changed.set()
        self._changed = trio.Event()
        if self.lifecycle.is_final:
            outcome.finish(self, self._cleanup)
            return
        activity = activity_for(move.dest)
        if activity is not None:
            self._activity = trio.CancelScope()
            self.nursery.start_soon(self._run_activity, self._activity, activity, self._epoch)

    async def _run_activity(self, scope: trio.CancelScope, activity: Activity, epoch: int) -> None:
        def post(name: EventName, **kw: Any) -> None:
            self.post(Event(name, epoch=epoch, **kw))

        with scope:
            try:
                await activity(self, post)
            except Exception as exc:  # any startup error, or a bug: the lifecycle fails
                post(EventName.FAIL, error=exc)
