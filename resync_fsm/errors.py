"""The errors resync_fsm raises, and the exit code each one ends the process with.

The tree (Resync's names and attributes are kept)::

    Exception
    └── StartupError(message, details)                      exit 70 (EX_SOFTWARE)
        ├── ConfigurationValidationError(message, details)  exit 78 (EX_CONFIG)
        └── DependencyUnavailableError(message, dependency, details)
                                                            exit 69 (EX_UNAVAILABLE)

Any other exception escaping a lifecycle activity is treated as a
``StartupError`` (exit 70). ``details`` never holds a secret: whoever builds
one passes values through :mod:`resync_fsm.redaction` first.
"""

from __future__ import annotations

import signal
from typing import Any

__all__ = [
    "EX_CONFIG",
    "EX_OK",
    "EX_SOFTWARE",
    "EX_UNAVAILABLE",
    "EX_USAGE",
    "ConfigurationValidationError",
    "DependencyUnavailableError",
    "StartupError",
    "exit_code_for",
    "forced_exit_code",
]

EX_OK = 0
EX_USAGE = 2
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_CONFIG = 78


class StartupError(Exception):
    """The service could not be started; ``message`` says why, ``details`` adds facts."""

    exit_code = EX_SOFTWARE
    log_event = "startup_error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def one_line(self) -> str:
        """``ErrorType: message`` — what the CLI prints on stderr."""
        return f"{type(self).__name__}: {self.message}"


class ConfigurationValidationError(StartupError):
    """The configuration is invalid; ``details["problems"]`` lists every problem."""

    exit_code = EX_CONFIG
    log_event = "configuration_validation_failed"


class DependencyUnavailableError(StartupError):
    """A critical dependency did not pass its probe before the startup deadline."""

    exit_code = EX_UNAVAILABLE
    log_event = "dependency_unavailable"

    def __init__(
        self, message: str, dependency: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details)
        self.dependency = dependency


def exit_code_for(error: BaseException) -> int:
    """The exit code for an error that ended the lifecycle in ``failed``."""
    if isinstance(error, StartupError):
        return error.exit_code
    return EX_SOFTWARE


def forced_exit_code(signum: int | None) -> int:
    """128 + the signal's number, as shells report a death by that signal."""
    return 128 + int(signum if signum is not None else signal.SIGTERM)


__all__ += ["Invalid"]


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
