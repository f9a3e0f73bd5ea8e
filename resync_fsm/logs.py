"""Structured logs: structlog to stdout, JSON off a TTY, readable on one; secrets scrubbed.

stdout carries the log; stderr is kept for the one line a failure prints. The access
log renders its JSON lines itself (:class:`JsonLines`, the same fields and format) and
lets them be flushed within 20 ms instead of per line: a write per request was a third of
its cost on a pipe (docs/benchmarks.md, "Access log cost").
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO, cast

import structlog

from .log_streams import JsonLines, SafeStream
from .redaction import scrub_data

__all__ = [
    "OWN_LOGGERS",
    "JsonLines",
    "SafeStream",
    "configure_logging",
    "get_logger",
    "json_lines",
    "symbol",
]

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


_json_lines: JsonLines | None = None


def json_lines() -> JsonLines | None:
    """The :class:`JsonLines` of the JSON logging :func:`configure_logging` set up, or None (console format)."""
    return _json_lines


def configure_logging(level: str = "info", fmt: str = "auto", stream: TextIO | None = None,
                      config: str | None = None) -> None:
    """Send structlog events and the engines' stdlib loggers (Hypercorn, Uvicorn) to ``stream`` (default: stdout).

    ``level``: debug, info, warning, error or critical; ``fmt``: console, json, or auto
    (console on a TTY, JSON otherwise). Every value is scrubbed of registered secrets; a
    write that fails never raises (:class:`SafeStream`). The root logger is left alone
    (see :data:`OWN_LOGGERS`); ``config`` (``--log-config``) is applied last.
    """
    raw = stream or sys.stdout
    stream = cast(TextIO, SafeStream(raw))
    if fmt == "auto":
        fmt = "console" if raw.isatty() else "json"
    global _json_lines
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
    processors = [*shared, *renderers]
    _json_lines = JsonLines(cast(SafeStream, stream), processors, _LEVELS[level]) if fmt == "json" else None
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        # one write per line (message and newline together): worker processes share this stream
        logger_factory=structlog.WriteLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    # The engines' loggers (and the runner's stdlib ones) through the same renderer. The root logger is
    # the app's: its level and handlers stay as Uvicorn leaves them (DESIGN §2), so a module's
    # logging.getLogger(x).info(...) stays a no-op at its WARNING, and the app's basicConfig still works.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    for name, floor in OWN_LOGGERS.items():
        own = logging.getLogger(name)
        own.handlers[:] = [handler]
        own.propagate = False
        own.setLevel(max(_LEVELS[level], floor))
    # A record that reaches the root logger with no handler anywhere goes to logging.lastResort (stderr,
    # WARNING and above): the same records, in the runner's format on stdout. The app's own handlers win.
    last = logging.StreamHandler(stream)
    last.setFormatter(handler.formatter)
    last.setLevel(logging.WARNING)
    logging.lastResort = last
    if config is not None:
        from .log_config import apply_log_config

        apply_log_config(config)


# The stdlib loggers the runner owns -> the lowest level each shows. Hypercorn's "Running on ..." and
# Uvicorn's "Started server process" lines repeat our own events; transitions logs every callback at INFO,
# and our state_transition event says it once.
OWN_LOGGERS = {"resync_fsm": 0, "hypercorn": 0, "hypercorn.error": logging.WARNING, "uvicorn": 0,
               "uvicorn.error": logging.WARNING, "transitions": logging.WARNING}


def get_logger(name: str = "resync_fsm") -> Any:
    """A structlog logger named ``name`` (configured by :func:`configure_logging`)."""
    return structlog.get_logger(name)
