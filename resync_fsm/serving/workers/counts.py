"""Every worker's request count, exact and at once (issue 24): one shared memory file the workers inherit.

A count carried by the heartbeat lags up to a second (``/status`` said fewer requests
than were served, ``draining`` said 0 in flight). :class:`RequestTable` is a ``memfd``
of :data:`SLOTS` cells of ``(pid, requests, in_flight)``, 64-bit each: the supervisor
gives each worker a cell (:meth:`~RequestTable.claim`, :meth:`~RequestTable.own`), the
worker writes its own counts there at each request's start and end (aligned stores: no
lock, one writer per cell), and anyone reads every cell (:meth:`~RequestTable.by_pid`):
the supervisor for ``/status`` and the ``draining`` log, a worker answering ``/status``
(:class:`~.child.SharedView`). Cells are reused round robin; :data:`SLOTS` is far more
than the processes of two generations at once.
"""

from __future__ import annotations

import mmap
import os

__all__ = ["SLOTS", "WIDTH", "RequestTable", "shared_table"]

SLOTS = 512
WIDTH = 3  # pid, requests, in flight


class RequestTable:
    """The shared cells; ``fd`` None makes a new table (the supervisor), an inherited ``fd`` maps it (a worker).
    Raises OSError where ``memfd_create`` is missing (the supervisor then counts by heartbeat alone)."""

    def __init__(self, fd: int | None = None) -> None:
        if fd is None:
            fd = os.memfd_create("resync_fsm-requests")
            os.ftruncate(fd, 8 * WIDTH * SLOTS)
        self.fd = fd
        self._map = mmap.mmap(fd, 8 * WIDTH * SLOTS)
        self._cells = memoryview(self._map).cast("q")
        self._next = 0

    def claim(self) -> int:
        """A cell for the next worker (the supervisor), emptied."""
        slot, self._next = self._next, (self._next + 1) % SLOTS
        self._cells[WIDTH * slot:WIDTH * (slot + 1)] = memoryview(bytes(8 * WIDTH)).cast("q")
        return slot

    def own(self, slot: int, pid: int) -> None:
        """Cell ``slot`` is process ``pid``'s (the supervisor, once it started it)."""
        self._cells[WIDTH * slot] = pid

    def count(self, slot: int, requests: int, in_flight: int) -> None:
        """This worker's requests so far and in flight now (the worker, in its own cell)."""
        self._cells[WIDTH * slot + 1], self._cells[WIDTH * slot + 2] = requests, in_flight

    def by_pid(self) -> dict[int, tuple[int, int]]:
        """``{pid: (requests, in_flight)}`` of every owned cell."""
        cells = self._cells
        return {cells[i]: (cells[i + 1], cells[i + 2]) for i in range(0, WIDTH * SLOTS, WIDTH) if cells[i]}


def shared_table() -> RequestTable | None:
    """A new table, or None where the system has no ``memfd_create`` (counts then come by heartbeat)."""
    try:
        return RequestTable()
    except (OSError, AttributeError):
        return None
