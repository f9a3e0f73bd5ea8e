"""Which signal does what (DESIGN §1): signals post events; no work is done in a handler.

| signal | first | while draining |
|---|---|---|
| SIGTERM | graceful drain | ignored, logged: stays graceful (process managers repeat it) |
| SIGINT | graceful drain | forced stop, exit 130 (a person pressing Ctrl-C again) |
| SIGQUIT | forced stop at once, exit 131 | forced stop, exit 131 |
| SIGHUP | logged and ignored: reload needs workers (server.workers > 1) | same |
| SIGUSR1, SIGUSR2 | logged and ignored | same |

Signals can only be received on the main thread: embedded elsewhere the runner
handles none and the host calls :meth:`~resync_fsm.runner.Runner.request_drain`.
A signal that arrives before the runner watches (:func:`install_early_handlers`,
called first thing by the CLI) is kept and acted on once it does.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

import trio

from ..logs import get_logger

if TYPE_CHECKING:
    from .core import Runner

__all__ = ["DEFAULT_FORCE_SIGNAL", "HANDLED", "install_early_handlers", "start_watching"]

log = get_logger("resync_fsm.signals")

DEFAULT_FORCE_SIGNAL = signal.SIGTERM
HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
_IGNORED: dict[int, str] = {
    signal.SIGHUP: "reload needs worker processes (server.workers > 1); nothing to reload in-process",
    signal.SIGUSR1: "no meaning here",
    signal.SIGUSR2: "no meaning here",
}

_early: list[int] = []


def _remember(signum: int, _frame: FrameType | None) -> None:
    _early.append(signum)


def install_early_handlers() -> None:
    """Keep every handled signal that arrives before the runner watches (no KeyboardInterrupt,
    no death by a default action); main thread only, else a no-op."""
    if threading.current_thread() is threading.main_thread():
        for signum in HANDLED:
            signal.signal(signum, _remember)


async def start_watching(runner: Runner, nursery: trio.Nursery) -> None:
    """Start the watcher in ``nursery`` (returns once signals are received), then replay early ones."""
    if threading.current_thread() is not threading.main_thread():
        log.info("signals_not_handled", reason="not the main thread; use request_drain()")
        return
    await nursery.start(_watch, runner)


async def _watch(runner: Runner, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    with trio.open_signal_receiver(*HANDLED) as received:
        task_status.started()
        while _early:
            on_signal(runner, _early.pop(0))
        async for signum in received:
            on_signal(runner, signum)


def on_signal(runner: Runner, signum: int) -> None:
    """Post what ``signum`` means in the runner's current state (the table above), and log it."""
    name = signal.Signals(signum).name
    if signum in _IGNORED:
        log.warning("signal_ignored", signal=name, state=runner.state, reason=_IGNORED[signum])
        return
    log.info("signal_received", signal=name, state=runner.state)
    if signum == signal.SIGQUIT:
        runner.request_drain(signum)
        runner.request_drain(signum, force=True)
    else:
        runner.request_drain(signum, force=signum == signal.SIGINT and runner.state == "draining")
