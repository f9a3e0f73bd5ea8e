"""The log's streams: :class:`SafeStream` (never raises) and :class:`JsonLines` (pre-rendered lines,
flushed within 20 ms), used by :mod:`.logs` and the access log."""

from __future__ import annotations

import atexit
import datetime
import logging
import os
import threading
import time
from typing import Any, TextIO

import structlog

__all__ = ["JsonLines", "SafeStream"]


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
