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

import re
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
    "describe",
    "exit_code_for",
    "forced_exit_code",
    "leaves",
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
        """``ErrorType: message`` on one line: what the CLI prints on stderr (DESIGN §2). When the
        cause is an exception group (an app module whose import raised one), its leaves follow."""
        line = f"{type(self).__name__}: {self.message}"
        cause = self.__cause__ or (None if self.__suppress_context__ else self.__context__)
        if isinstance(cause, BaseExceptionGroup):
            texts = [_leaf_text(leaf) for leaf in leaves(cause)]
            if texts[0] not in line:
                line = _grouped(line, texts)
        return one_line(line)


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
    groups, else the only leaf; a group of several leaves and no StartupError becomes one
    StartupError naming them (:func:`describe`), caused by the group. Not a group: ``exc`` itself."""
    while isinstance(exc, BaseExceptionGroup):
        startup = exc.subgroup(StartupError)
        if startup is None and len(leaves(exc)) > 1:
            error = StartupError(f"unexpected {describe(exc)}")
            error.__cause__ = exc
            return error
        exc = (startup or exc).exceptions[0]
    return exc


LEAVES_SHOWN = 3  # leaf exceptions a line names; the rest are counted
LEAF_LIMIT = 300  # characters of each


def leaves(exc: BaseException) -> list[BaseException]:
    """The leaf exceptions of ``exc`` through nested groups, in order (``[exc]`` for a non-group)."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in leaves(sub)]
    return [exc]


def _leaf_text(exc: BaseException) -> str:
    text = exc.one_line() if isinstance(exc, StartupError) else f"{type(exc).__name__}: {exc}"
    return one_line(text.removesuffix(": "), LEAF_LIMIT)


def _grouped(head: str, texts: list[str]) -> str:
    """``head`` followed by the leaves' texts: the first :data:`LEAVES_SHOWN`, then how many more."""
    if len(texts) == 1:
        return f"{head}: {texts[0]}"
    more = f"; and {len(texts) - LEAVES_SHOWN} more" if len(texts) > LEAVES_SHOWN else ""
    return f"{head} ({len(texts)} errors): {'; '.join(texts[:LEAVES_SHOWN])}{more}"


def describe(exc: BaseException) -> str:
    """``ErrorType: message`` of ``exc`` on one line; an exception group's names its leaf exceptions
    (``ExceptionGroup: unhandled errors in a TaskGroup: RuntimeError: queue subscriber lost …``)."""
    if isinstance(exc, BaseExceptionGroup):
        head = f"{type(exc).__name__}: {exc.message}" if exc.message else type(exc).__name__
        return one_line(_grouped(head, [_leaf_text(leaf) for leaf in leaves(exc)]))
    return _leaf_text(exc)


# An exception's line in a traceback ("RuntimeError: boom", "pkg.CustomError"), and a group's count
_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(?:Error|Exception|Group|Exit|Interrupt|Warning|Failure|Timeout)"
                             r"(?:: .*)?")
_SUB_COUNT = re.compile(r" \(\d+ sub-exceptions?\)$")


def _group_traceback(lines: list[str]) -> str | None:
    """The one line of a formatted exception group traceback (an ASGI app's ``lifespan.*.failed``
    message): the group's ``Type: message`` and its leaves, as :func:`describe` writes them."""
    head: str | None = None
    texts: list[str] = []
    for line in (raw.lstrip(" |+-") for raw in lines):
        if line.startswith(("During handling of the above", "The above exception was the direct")) and texts:
            texts.pop()  # that one was the cause of the next: the next is the leaf
        elif _EXCEPTION_LINE.fullmatch(line):
            if line.split(":", 1)[0].endswith("Group"):
                head = head or _SUB_COUNT.sub("", line)
            else:
                texts.append(one_line(line, LEAF_LIMIT))
    return _grouped(head, texts) if head and texts else None


def one_line(text: str | BaseException, limit: int = 2000) -> str:
    """``text`` as one line (an exception: :func:`describe`). A multi-line message (a traceback that
    an app or Hypercorn put in it) keeps its first line and its last meaningful line (the exception),
    or for an exception group's traceback the group and its leaves; whitespace runs fold; at most
    ``limit`` characters. The whole text belongs in the log at debug level."""
    if isinstance(text, BaseException):
        return one_line(describe(text), limit)
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if not lines:
        return ""
    if any("Exception Group Traceback" in line for line in lines):
        lines = [_group_traceback(lines) or lines[-1]]
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
