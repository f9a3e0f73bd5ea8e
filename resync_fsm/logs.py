"""Structured logs: structlog to stdout, JSON off a TTY, readable on one; secrets scrubbed.

stdout carries the log; stderr is kept for the one line a failure prints.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO, cast

import structlog

from .redaction import scrub_data

__all__ = ["SafeStream", "configure_logging", "get_logger", "symbol"]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


def symbol(ok: bool, stream: TextIO) -> str:
    """✅/❌ when the stream's encoding can encode both, else ``[OK]``/``[ERR]``."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "✅❌".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "[OK]" if ok else "[ERR]"
    return "✅" if ok else "❌"


def _scrub(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    scrubbed: MutableMapping[str, Any] = scrub_data(dict(event))
    return scrubbed


class SafeStream:
    """A log stream that never raises: logging must never take the service down (issue 12).

    When the reader goes away (a broken pipe: the log collector died, ``| head``), the
    first failed write points the stream's file descriptor at ``/dev/null`` (so that
    the interpreter's own flush at exit does not complain either) and later lines are
    dropped. Other write errors (a full disk) drop that line only.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        """Write ``text``; never raises (a broken pipe diverts the stream to /dev/null)."""
        if self.broken:
            return len(text)
        try:
            return self._stream.write(text)
        except (BrokenPipeError, ConnectionResetError):
            self._divert()
        except (OSError, ValueError):
            pass  # e.g. ENOSPC, or a closed file: this line is lost, the service goes on
        return len(text)

    def flush(self) -> None:
        """Flush; never raises."""
        if self.broken:
            return
        try:
            self._stream.flush()
        except (BrokenPipeError, ConnectionResetError):
            self._divert()
        except (OSError, ValueError):
            pass

    def isatty(self) -> bool:
        """Whether the underlying stream is a terminal (False when it cannot tell)."""
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False

    def _divert(self) -> None:
        self.broken = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass


def configure_logging(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Send structlog events and stdlib logging (Hypercorn, Uvicorn) to ``stream`` (default: stdout).

    ``level``: debug, info, warning, error or critical; ``fmt``: console, json, or auto
    (console on a TTY, JSON otherwise). Every value is scrubbed of registered secrets; a
    write that fails never raises (:class:`SafeStream`).
    """
    raw = stream or sys.stdout
    stream = cast(TextIO, SafeStream(raw))
    if fmt == "auto":
        fmt = "console" if raw.isatty() else "json"
    renderers: list[Any] = (
        # JSON needs the traceback as text; the console renderer formats exc_info itself
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if fmt == "json"
        else [structlog.dev.ConsoleRenderer(colors=raw.isatty())]
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _scrub,
    ]
    structlog.configure(
        processors=[*shared, *renderers],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        # one write per line (message and newline together): worker processes share this stream
        logger_factory=structlog.WriteLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    # Hypercorn (and anything else on stdlib logging) through the same renderer.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[level])
    # Hypercorn's "Running on ..." and Uvicorn's "Started server process" lines repeat our own events.
    for server_log in ("hypercorn.error", "uvicorn.error"):
        logging.getLogger(server_log).setLevel(max(_LEVELS[level], logging.WARNING))
    # transitions logs every callback at INFO; our state_transition event says it once.
    logging.getLogger("transitions").setLevel(logging.WARNING)


def get_logger(name: str = "resync_fsm") -> Any:
    """A structlog logger named ``name`` (configured by :func:`configure_logging`)."""
    return structlog.get_logger(name)
