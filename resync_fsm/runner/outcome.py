"""How a lifecycle ends: what is known of it (:class:`Ending`), its exit code, the failure's log event,
and the one stderr line (DESIGN §2)."""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import DependencyUnavailableError, StartupError, exit_code_for, forced_exit_code, one_line, root_error
from ..lifecycle import EventName, Move, State
from ..logs import get_logger, symbol
from .signals import DEFAULT_FORCE_SIGNAL

if TYPE_CHECKING:
    from .core import Runner

__all__ = ["Ending", "exit_code", "failure_line", "finish", "log_outcome"]

log = get_logger("resync_fsm.runner")


@attrs.define
class Ending:
    """What the runner's loop and activities learn of how the lifecycle ends, as they learn it.

    ``stop_requested``: a stopping signal's handler or ``request_drain()`` asked (readiness turns false
    at once); ``drain_from`` and ``drain_signal``: the state the first drain left and the signal
    behind it (``None``: the API); ``forced_by``: the signal that forced the stop while draining;
    ``fault``: an error while serving (drain, then fail with it); ``error``: what ``failed`` ends with.
    """

    stop_requested: bool = False
    drain_from: State | None = None
    drain_signal: int | None = None
    forced_by: int | None = None
    fault: BaseException | None = None
    error: BaseException | None = None

    def note(self, move: Move, error: BaseException | None, signum: int | None) -> None:
        """What ``move`` (made by an event carrying ``error`` and ``signum``) says of the ending: a
        ``fail`` its error (the root of a group), a first ``drain`` where it came from and why, a
        ``drain`` while draining the signal that forced the stop (SIGTERM's, from the API)."""
        if move.event == EventName.FAIL:
            self.error = root_error(error) if error else None
        if move.event == EventName.DRAIN and move.source == State.DRAINING:
            self.forced_by = signum if signum is not None else DEFAULT_FORCE_SIGNAL
        elif move.event == EventName.DRAIN:
            self.drain_from, self.drain_signal = move.source, signum


def finish(runner: Runner, cleanup: Callable[[], None] | None) -> None:
    """On a final state: stop what runs, clean up once (``cleanup``), report the outcome."""
    if runner.server is not None:
        runner.server.cancel()
    if runner.freeze_gc:
        gc.unfreeze()
    runner.cleanups_run += 1
    if cleanup is not None:
        cleanup()
    log_outcome(runner)


def exit_code(runner: Runner) -> int:
    """0 stopped, 128 + n after a forced stop, else the failure's code (78, 69, 70)."""
    ending = runner.ending
    if runner.state == State.FAILED:
        return exit_code_for(ending.error or StartupError("failed"))
    if ending.forced_by is not None:
        return forced_exit_code(ending.forced_by)
    return 0


def failure_line(runner: Runner) -> str | None:
    """The one line a run that failed (``ErrorType: message``) or was forced to stop prints on
    stderr; ``None`` after a graceful stop."""
    ending = runner.ending
    if runner.state == State.STOPPED and ending.forced_by is not None:
        name = signal.Signals(ending.forced_by).name
        code = runner.exit_code
        if ending.drain_from in (State.VALIDATING, State.PROBING):
            return f"Interrupted: {name} during {ending.drain_from}; nothing was served (exit {code})"
        return f"Stopped by {name} while draining: the drain was cut short (exit {code})"
    if runner.state != State.FAILED:
        return None
    error = ending.error or StartupError("failed")
    if isinstance(error, StartupError):
        return error.one_line()
    return one_line(f"StartupError: unexpected {type(error).__name__}: {error}")


def log_outcome(runner: Runner) -> None:
    """The final log event: ``stopped``, or the error's own event (Resync's names) with its fields."""
    if runner.state == State.STOPPED:
        log.info("stopped", forced=runner.ending.forced_by is not None, exit_code=runner.exit_code)
        return
    error = runner.ending.error or StartupError("failed")
    event = error.log_event if isinstance(error, StartupError) else "startup_error"
    fields: dict[str, Any] = {
        "error_type": type(error).__name__,
        "error_message": getattr(error, "message", str(error)),
        "error_details": getattr(error, "details", None),
        "status_symbol": symbol(False, sys.stdout),
        "exit_code": runner.exit_code,
    }
    if isinstance(error, DependencyUnavailableError):
        fields["dependency"] = error.dependency
    if runner.settings is not None and runner.settings.log.level == "debug":
        fields["exc_info"] = error  # a traceback only at DEBUG
    log.error(event, **fields)
