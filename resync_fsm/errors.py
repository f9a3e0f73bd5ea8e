"""Every exception resync_fsm raises, and the exit code each one ends the process with.

The tree (Resync's names and attributes are kept; DESIGN §2)::

    Exception
    ├── StartupError(message, details)                      exit 70 (EX_SOFTWARE)
    │   ├── ConfigurationValidationError(message, details)  exit 78 (EX_CONFIG)
    │   ├── DependencyUnavailableError(message, dependency, details)
    │   │                                                   exit 69 (EX_UNAVAILABLE)
    │   └── LifespanError(message, phase, details)          exit 70
    ├── ValueError
    │   └── Invalid(expected)             a setting's value that does not parse (becomes a 78 problem)
    ├── ProbeFailure(reason, message)     one failed probe attempt (never escapes a probe run)
    ├── UsageError                        bad command line: exit 2 (EX_USAGE)
    └── DiagramError                      a diagram cannot be drawn here: exit 1

Any other exception escaping a lifecycle activity is treated as a
``StartupError`` (exit 70). ``details`` never holds a secret: whoever builds
one passes values through :mod:`resync_fsm.redaction` first.
"""

from __future__ import annotations

import signal
from typing import Any

__all__ = [
    "EX_CONFIG",
    "EX_DIAGRAM",
    "EX_INTERRUPTED",
    "EX_OK",
    "EX_SOFTWARE",
    "EX_UNAVAILABLE",
    "EX_USAGE",
    "ConfigurationValidationError",
    "DependencyUnavailableError",
    "DiagramError",
    "Invalid",
    "LifespanError",
    "ProbeFailure",
    "StartupError",
    "UsageError",
    "exit_code_for",
    "forced_exit_code",
    "one_line",
    "root_error",
]

EX_OK = 0
EX_DIAGRAM = 1
EX_USAGE = 2
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_CONFIG = 78
EX_INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C during `check` or before the runner handles signals


class StartupError(Exception):
    """The service could not be started; ``message`` says why, ``details`` adds facts (no secrets)."""

    exit_code = EX_SOFTWARE
    log_event = "startup_error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def one_line(self) -> str:
        """``ErrorType: message`` on one line: what the CLI prints on stderr (DESIGN §2)."""
        return one_line(f"{type(self).__name__}: {self.message}")


class ConfigurationValidationError(StartupError):
    """The configuration is invalid; ``details["problems"]`` lists every problem (DESIGN §3)."""

    exit_code = EX_CONFIG
    log_event = "configuration_validation_failed"


class DependencyUnavailableError(StartupError):
    """A critical dependency did not pass its probe before the startup deadline (DESIGN §4)."""

    exit_code = EX_UNAVAILABLE
    log_event = "dependency_unavailable"

    def __init__(
        self, message: str, dependency: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details)
        self.dependency = dependency


class LifespanError(StartupError):
    """The app's ASGI lifespan failed in ``phase``: "startup", "serving" or "shutdown".

    Each phase's failure is its own log event field (``error_details.phase``) and its
    own one-line message; the exit code is DESIGN §2's for any other StartupError,
    70, in every phase (a shutdown failure after a drain still ends ``failed``).
    """

    log_event = "lifespan_failed"

    def __init__(self, message: str, phase: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, {"phase": phase, **(details or {})})
        self.phase = phase


class ProbeFailure(Exception):
    """One failed probe attempt: ``reason`` is a code from ``probes.REASONS``, ``message`` for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class UsageError(Exception):
    """The command line is wrong; the message is argparse's ``prog: error: …`` line (exit 2)."""


class DiagramError(Exception):
    """A diagram cannot be drawn here (``svg`` without Graphviz's ``dot``): exit 1."""


def exit_code_for(error: BaseException) -> int:
    """The exit code for an error that ended the lifecycle in ``failed`` (DESIGN §2 table)."""
    if isinstance(error, StartupError):
        return error.exit_code
    return EX_SOFTWARE


def forced_exit_code(signum: int | None) -> int:
    """128 + the signal's number, as shells report a death by that signal."""
    return 128 + int(signum if signum is not None else signal.SIGTERM)


def root_error(exc: BaseException) -> BaseException:
    """The error to report from ``exc``: the first :class:`StartupError` inside nested exception
    groups, else the first leaf. Not a group: ``exc`` itself."""
    while isinstance(exc, BaseExceptionGroup):
        startup = exc.subgroup(StartupError)
        exc = (startup or exc).exceptions[0]
    return exc


def one_line(text: str, limit: int = 2000) -> str:
    """``text`` as one line. A multi-line message (a traceback that an app or Hypercorn put in
    it) keeps its first line and its last meaningful line (the exception); whitespace runs fold;
    at most ``limit`` characters. The whole text belongs in the log at debug level."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if not lines:
        return ""
    head = lines[0].replace("Traceback (most recent call last):", "").strip()
    skip = ("File ", "^", "~", "Traceback", "During handling", "The above exception")
    rest = [line for line in lines[1:] if not line.startswith(skip)]
    if rest and rest[-1] != head:
        head = f"{head.rstrip(':')}: {rest[-1]}" if head else rest[-1]
    result = " ".join(head.split())
    return result if len(result) <= limit else result[: limit - 1] + "…"


class Invalid(ValueError):
    """A setting's value that does not parse; ``expected`` says what would (DESIGN §3).

    Raised by the parsers in :mod:`resync_fsm.settings.parsers`; the loader turns
    it into one problem of a :class:`ConfigurationValidationError` (exit 78), and
    constructing a settings class directly turns it into a ``ValueError`` naming
    the field. ``expected`` never quotes the value, which may be a secret.
    """

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected
