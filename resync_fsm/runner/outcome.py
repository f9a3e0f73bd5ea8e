"""How a lifecycle ends: its exit code, the failure's log event, and the one stderr line (DESIGN §2)."""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING, Any

from ..errors import DependencyUnavailableError, StartupError, exit_code_for, forced_exit_code, one_line
from ..logs import get_logger, symbol

if TYPE_CHECKING:
    from .core import Runner

__all__ = ["exit_code", "failure_line", "log_outcome"]

log = get_logger("resync_fsm.runner")


def exit_code(runner: Runner) -> int:
    """0 stopped, 128 + n after a forced stop, else the failure's code (78, 69, 70)."""
    if runner.state == "failed":
        return exit_code_for(runner.error or StartupError("failed"))
    if runner.forced_by is not None:
        return forced_exit_code(runner.forced_by)
    return 0


def failure_line(runner: Runner) -> str | None:
    """The one line a run that failed (``ErrorType: message``) or was forced to stop prints on
    stderr; ``None`` after a graceful stop."""
    if runner.state == "stopped" and runner.forced_by is not None:
        name = signal.Signals(runner.forced_by).name
        code = runner.exit_code
        if runner.drain_from in ("validating", "probing"):
            return f"Interrupted: {name} during {runner.drain_from}; nothing was served (exit {code})"
        return f"Stopped by {name} while draining: the drain was cut short (exit {code})"
    if runner.state != "failed":
        return None
    error = runner.error or StartupError("failed")
    if isinstance(error, StartupError):
        return error.one_line()
    return one_line(f"StartupError: unexpected {type(error).__name__}: {error}")


def log_outcome(runner: Runner) -> None:
    """The final log event: ``stopped``, or the error's own event (Resync's names) with its fields."""
    if runner.state == "stopped":
        log.info("stopped", forced=runner.forced_by is not None, exit_code=runner.exit_code)
        return
    error = runner.error or StartupError("failed")
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
