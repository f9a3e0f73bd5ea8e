"""Structured logs: structlog to stdout, JSON off a TTY, readable on one; secrets scrubbed.

stdout carries the log; stderr is kept for the one line a failure prints. The access
log renders its JSON lines itself (:class:`JsonLines`, the same fields and format) and
lets them be flushed within 20 ms instead of per line: a write per request was a third of
its cost on a pipe (docs/benchmarks.md, "Access log cost").
"""

from __future__ import annotations

import atexit
import datetime
import logging
import os
import sys
import threading
import time
from collections.abc import MutableMapping
from typing import Any, TextIO, cast

import structlog

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


class JsonLines:
    """Pre-rendered JSON lines into the log stream, beside structlog's events (the access log's fast path).

    :meth:`write` buffers a line; a daemon thread flushes the stream within ``interval``
    seconds (20 ms) of the first unflushed line, and every other event (structlog's and
    the stdlib's flush per line) flushes it sooner, so lines stay in order. At a normal
    exit the rest is flushed; a process killed outright (SIGKILL, the OOM killer) loses at
    most the lines of its last ``interval``.
    """

    def __init__(self, stream: SafeStream, processors: list[Any], level: int, interval: float = 0.02) -> None:
        self._stream = stream
        self._processors = processors  # the list given to structlog.configure (capture_logs mutates it)
        self._renderer = processors[-1]
        self.info = level <= logging.INFO
        self.interval = interval
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending = False
        self._flusher_pid = 0  # the process whose flusher thread runs (none yet, or forked since)
        self._second = -1
        self._second_iso = ""
        atexit.register(self.flush)
        os.register_at_fork(after_in_child=self._forked)

    def active(self) -> bool:
        """True while structlog still runs the JSON chain this was made with (not a test's ``capture_logs``)."""
        processors = self._processors
        return processors[-1] is self._renderer and structlog.get_config()["processors"] is processors

    def timestamp(self) -> str:
        """Now in UTC, ISO 8601 with microseconds and ``Z``, as ``TimeStamper(fmt="iso", utc=True)`` gives."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second_iso = datetime.datetime.fromtimestamp(second, datetime.UTC).isoformat()[:19]
            self._second = second
        return f"{self._second_iso}.{int((now - second) * 1e6):06d}Z"

    def write(self, line: str) -> None:
        """Append ``line`` (one rendered event, without its newline); flushed within ``interval``."""
        with self._lock:
            self._stream.write(line + "\n")
            if not self._pending:
                self._pending = True
                if self._flusher_pid != os.getpid():
                    self._flusher_pid = os.getpid()
                    threading.Thread(target=self._flush_soon, name="log-flush", daemon=True).start()
                self._wake.set()

    def flush(self) -> None:
        """Write out every batched line now (any other log event, and exit, call it)."""
        with self._lock:
            self._pending = False
            self._stream.flush()

    def _forked(self) -> None:
        # a child (a worker process) starts its own flusher on its first line, with a lock no thread holds
        self._lock, self._wake, self._pending = threading.Lock(), threading.Event(), False

    def _flush_soon(self) -> None:
        pid = os.getpid()
        while self._flusher_pid == pid:
            self._wake.wait()
            time.sleep(self.interval)
            self._wake.clear()
            self.flush()


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
