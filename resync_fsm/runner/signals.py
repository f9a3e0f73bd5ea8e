"""Which signal does what (DESIGN §1): signals post events; no work is done in a handler.

| signal | first | while draining |
|---|---|---|
| SIGTERM | graceful drain | ignored, logged: stays graceful (process managers repeat it) |
| SIGINT | graceful drain; during start-up: interrupted, exit 130 | forced stop, exit 130 (Ctrl-C again) |
| SIGQUIT | forced stop at once, exit 131 | forced stop, exit 131 |
| SIGHUP | reload the workers (server.workers > 1; ``Runner.request_reload``); else logged, ignored | ignored |
| SIGUSR1, SIGUSR2 | logged and ignored | same |

Signals can only be received on the main thread: embedded elsewhere the runner
handles none and the host calls :meth:`~resync_fsm.runner.Runner.request_drain`.
A signal that arrives before the runner watches (kept by
:mod:`resync_fsm.signal_buffer`, installed first thing by the CLI) is acted on
once it does.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from ..lifecycle import State
from ..logs import get_logger
from ..serving import Reloadable
from ..signal_buffer import HANDLED, take

if TYPE_CHECKING:
    from .core import Runner

__all__ = ["DEFAULT_FORCE_SIGNAL", "HANDLED", "interruptible", "on_signal", "reload", "start_watching"]

T = TypeVar("T")

log = get_logger("resync_fsm.signals")

DEFAULT_FORCE_SIGNAL = signal.SIGTERM
_IGNORED: dict[int, str] = {
    signal.SIGUSR1: "no meaning here",
    signal.SIGUSR2: "no meaning here",
}


async def start_watching(runner: Runner, nursery: trio.Nursery) -> None:
    """Start the watcher in ``nursery`` (returns once signals are received), then replay early ones."""
    if threading.current_thread() is not threading.main_thread():
        log.info("signals_not_handled", reason="not the main thread; use request_drain()")
        return
    await nursery.start(_watch, runner)


async def _watch(runner: Runner, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    with trio.open_signal_receiver(*HANDLED) as received:
        _readiness_at_once(runner)
        task_status.started()
        for signum in take():  # kept by resync_fsm.signal_buffer before the watcher was there
            on_signal(runner, signum)
        async for signum in received:
            on_signal(runner, signum)


class _Stop(BaseException):
    """Raised by a stopping signal's handler inside :func:`interruptible`; a ``BaseException``, as
    ``KeyboardInterrupt`` is, so that the app's own ``except Exception`` does not swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_STOPPING = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def interruptible(runner: Runner, fn: Callable[[], T]) -> T | None:
    """``fn()``, blocking this thread (the app's import), with SIGTERM, SIGINT and SIGQUIT raising in it
    at once: Python runs a signal's handler in the main thread between bytecodes and wakes a sleeping
    or blocked call for it (PEP 475), so even an import that sleeps stops within milliseconds. The
    signal is then acted on as :func:`on_signal` says (a stop asked, ``runner.ending.stop_requested``)
    and ``None`` returned. Off the main thread, or with the runner handling no signals, just ``fn()``.
    The import stays on the main thread, as Uvicorn and Hypercorn import: an app that sets a signal
    handler or takes the event loop at import keeps working. Not interrupted: a C extension's loop
    that never returns to the interpreter."""
    if not runner.handles_signals or threading.current_thread() is not threading.main_thread():
        return fn()
    armed, caught = [True], list[int]()

    def stop(signum: int, _frame: FrameType | None) -> None:
        caught.append(signum)
        if armed[0]:
            armed[0] = False
            raise _Stop(signum)

    previous = {stopping: signal.getsignal(stopping) for stopping in _STOPPING}
    try:
        for stopping in _STOPPING:
            signal.signal(stopping, stop)
        return fn()
    except _Stop:
        return None
    finally:
        armed[0] = False
        for stopping, handler in previous.items():
            signal.signal(stopping, handler)
        for signum in caught:
            on_signal(runner, signum)


def _readiness_at_once(runner: Runner) -> None:
    """Turn readiness false inside the Python-level handler of each stopping signal, before the
    event reaches the runner's loop: under a saturating load that loop is two scheduling rounds
    away (measured: tens of ms), and a balancer polling /readyz should see 503 at once. Setting one
    flag is the only work done there; trio's own handler then runs as before."""
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        trio_handler = signal.getsignal(signum)
        if not callable(trio_handler):
            continue

        def handler(n: int, frame: FrameType | None, forward: Any = trio_handler) -> None:
            runner.ending.stop_requested = True
            forward(n, frame)

        signal.signal(signum, handler)


def on_signal(runner: Runner, signum: int) -> None:
    """Post what ``signum`` means in the runner's current state (the table above), and log it."""
    name = signal.Signals(signum).name
    if signum == signal.SIGHUP:
        runner.request_reload()
        return
    if signum in _IGNORED:
        log.warning("signal_ignored", signal=name, state=runner.state, reason=_IGNORED[signum])
        return
    log.info("signal_received", signal=name, state=runner.state)
    starting = runner.state in (State.CREATED, State.VALIDATING, State.PROBING)
    if signum == signal.SIGQUIT or (signum == signal.SIGINT and starting):
        runner.request_drain(signum)  # through draining (nothing to drain yet), then forced: 128 + n
        runner.request_drain(signum, force=True)
    else:
        runner.request_drain(signum, force=signum == signal.SIGINT and runner.state == State.DRAINING)


def reload(runner: Runner) -> None:
    """SIGHUP's action (:meth:`~.core.Runner.request_reload`): a :class:`~resync_fsm.serving.Reloadable`
    server reloads, with systemd told ``RELOADING=1`` then ``READY=1`` (``Type=notify-reload``); else it
    is logged and ignored. The state stays ``serving`` throughout: a reload never stops serving."""
    server = runner.server.server if runner.server else None
    if not isinstance(server, Reloadable) or runner.state != State.SERVING:
        reason = ("reload needs worker processes (server.workers > 1); nothing to reload in-process"
                  if not isinstance(server, Reloadable) else f"nothing to reload while {runner.state}")
        log.warning("signal_ignored", signal="SIGHUP", state=runner.state, reason=reason)
        return
    log.info("signal_received", signal="SIGHUP", state=runner.state, action="reload")

    async def reloading() -> None:
        runner.notifier.send(f"RELOADING=1\nMONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}"
                             "\nSTATUS=reloading")
        try:
            await server.reload()
        finally:
            runner.notifier.send(f"READY=1\nSTATUS={runner.state}")

    runner.nursery.start_soon(reloading)
