"""Lingering close, engine- and loop-neutral: a connection answered before its request was read closes
without a reset destroying the answer (issue 23).

Closing a TCP socket while request bytes it never read are still arriving makes the kernel answer them
with a reset, and a client still sending gets ``EPIPE``/``ECONNRESET`` instead of reading the response
it was sent (RFC 9112 §9.6, "Tear-down"). The fix is nginx's ``lingering_close``: after the response is
flushed, half-close (FIN), keep reading and discarding what the client sends, for at most
``lingering_time`` seconds in all, ``lingering_timeout`` seconds between reads and ``lingering_size``
bytes, then close.

An engine's patch (``serving/hypercorn/patches/``, ``serving/uvicorn/patches/``) decides that a
connection must linger (its request's body was not completely received), takes a duplicate of the
socket's descriptor (``os.dup``) before the engine closes its own, and hands it, once the engine has
flushed and closed, to :data:`LINGERER` with :meth:`Lingerer.take`. The engine's close then releases
only its descriptor: the socket stays open, with no reset, until the lingerer closes the duplicate. The
lingerer serves every loop from one daemon thread (a :mod:`selectors` loop), so no engine's read loop
competes with it, and a stop never waits for it: a client still sending when the process exits is cut
then, inside the drain budget (the response was delivered before).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import threading
import time
from collections.abc import Callable

import attrs

__all__ = ["LINGERER", "Lingerer", "dup_socket"]

_READ = 1 << 16


@attrs.define(eq=False)
class _Entry:
    sock: socket.socket
    deadline: float  # lingering_time after it was taken
    idle_deadline: float  # lingering_timeout after the last read
    read: int = 0


class Lingerer:
    """Sockets lingering: each read and discarded until the peer's EOF, ``time`` seconds in all,
    ``timeout`` seconds without data or ``size`` bytes, whichever comes first, then closed.

    Thread-safe :meth:`take`; the selector thread starts with the first socket taken. ``clock`` is
    :func:`time.monotonic` (seconds), replaceable in tests.
    """

    def __init__(self, *, time: float = 30.0, timeout: float = 5.0, size: int = 4 << 20,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.time, self.timeout, self.size, self.clock = time, timeout, size, clock
        self._lock = threading.Lock()
        self._incoming: list[socket.socket] = []
        self._entries: dict[int, _Entry] = {}
        self._selector: selectors.BaseSelector | None = None  # with the wake pair, made by the first take
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self.closed = 0  # sockets closed so far (for tests and diagnostics)

    def configure(self, *, time: float, timeout: float, size: int) -> None:
        """Set the bounds (seconds, seconds, bytes) for sockets taken from now on."""
        self.time, self.timeout, self.size = time, timeout, size

    @property
    def lingering(self) -> int:
        """Sockets taken and not closed yet."""
        with self._lock:
            return len(self._entries) + len(self._incoming)

    def take(self, fd: int) -> None:
        """Own ``fd`` (a connection's socket, its response flushed): half-close it and linger (see the
        class). Its owner must not use or close ``fd`` again. A bound of 0 closes it at once."""
        sock = socket.socket(fileno=fd)
        try:
            sock.setblocking(False)
            sock.shutdown(socket.SHUT_WR)  # FIN after the response (a no-op when the engine sent it)
        except OSError:  # the peer is gone already: nothing to linger for
            sock.close()
            return
        if self.time <= 0 or self.timeout <= 0 or self.size <= 0:
            sock.close()
            return
        with self._lock:
            self._incoming.append(sock)
            if self._selector is None:
                self._wake_r, self._wake_w = socket.socketpair()
                self._wake_r.setblocking(False)
                self._wake_w.setblocking(False)
                self._selector = selectors.DefaultSelector()
                self._selector.register(self._wake_r, selectors.EVENT_READ)
                threading.Thread(target=self._run, name="resync_fsm-lingering", daemon=True).start()
        self.wake()

    def wake(self) -> None:
        """Have the thread look at its sockets and deadlines now (after ``clock`` moved, in tests)."""
        if self._wake_w is not None:
            with contextlib.suppress(BlockingIOError):
                self._wake_w.send(b"\0")

    def _run(self) -> None:
        selector = self._selector
        assert selector is not None
        while True:
            now = self.clock()
            with self._lock:
                soonest = min((min(e.deadline, e.idle_deadline) for e in self._entries.values()), default=None)
            wait = None if soonest is None else max(0.0, soonest - now)
            for key, _ in selector.select(wait):
                if key.fileobj is self._wake_r:
                    self._admit(selector)
                else:
                    self._discard(selector, key.fd)
            self._expire(selector)

    def _admit(self, selector: selectors.BaseSelector) -> None:
        assert self._wake_r is not None
        with contextlib.suppress(BlockingIOError):
            while self._wake_r.recv(4096):
                pass
        now = self.clock()
        with self._lock:
            incoming, self._incoming = self._incoming, []
            for sock in incoming:
                self._entries[sock.fileno()] = _Entry(sock, now + self.time, now + self.timeout)
                selector.register(sock, selectors.EVENT_READ)

    def _discard(self, selector: selectors.BaseSelector, fd: int) -> None:
        entry = self._entries.get(fd)
        if entry is None:
            return
        try:
            data = entry.sock.recv(_READ)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        entry.read += len(data)
        if not data or entry.read >= self.size:
            self._close(selector, fd)
            return
        entry.idle_deadline = self.clock() + self.timeout

    def _expire(self, selector: selectors.BaseSelector) -> None:
        now = self.clock()
        for fd, entry in list(self._entries.items()):
            if now >= entry.deadline or now >= entry.idle_deadline:
                self._close(selector, fd)

    def _close(self, selector: selectors.BaseSelector, fd: int) -> None:
        with self._lock:
            entry = self._entries.pop(fd)
        selector.unregister(entry.sock)
        entry.sock.close()
        self.closed += 1


def dup_socket(sock: socket.socket | None) -> int | None:
    """A duplicate of ``sock``'s descriptor (what :meth:`Lingerer.take` owns), or ``None`` when it has
    none (closed, or no socket)."""
    if sock is None:
        return None
    try:
        fd = sock.fileno()
        return os.dup(fd) if fd >= 0 else None
    except OSError:
        return None


LINGERER = Lingerer()  # the process's one lingerer: engines configure it from server.lingering_*
