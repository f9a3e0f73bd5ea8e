"""The supervisor's arithmetic: replacement backoff, crash-loop detection and recycling limits (issue 17).

Kept free of processes and clocks of their own (``now`` is passed in, trio's
clock in the pool) so that unit tests drive it on trio's ``MockClock``.
"""

from __future__ import annotations

import collections

import attrs

from ...errors import StartupError
from ..counting import recycle_limit  # re-exported: the pool's recycling limit

__all__ = ["BACKOFF_CAP", "BACKOFF_FIRST", "CrashLoop", "recycle_limit"]

BACKOFF_FIRST = 0.1  # seconds before replacing a worker after its first death in the window
BACKOFF_CAP = 5.0  # seconds, at most, however many deaths


@attrs.define
class CrashLoop:
    """Worker deaths in a sliding window: ``deaths`` of them within ``seconds`` is a crash loop.

    ``record(now)`` notes one death at ``now`` (seconds, any monotonic clock) and
    returns whether that made a crash loop; ``backoff()`` is how long to wait before
    the replacement: :data:`BACKOFF_FIRST` doubled per earlier death still in the
    window, capped at :data:`BACKOFF_CAP` (a worker that dies once is replaced at
    once; one that keeps dying is not respawned in a tight loop).
    """

    deaths: int
    seconds: float
    _times: collections.deque[float] = attrs.field(factory=collections.deque, init=False)

    def record(self, now: float) -> bool:
        """Record a worker death at ``now`` (seconds); True when ``deaths`` fell within ``seconds``: a crash loop."""
        self._times.append(now)
        while self._times and self._times[0] <= now - self.seconds:
            self._times.popleft()
        return len(self._times) >= self.deaths

    @property
    def recent(self) -> int:
        """Deaths recorded within the window (as of the last :meth:`record`)."""
        return len(self._times)

    def error(self, pid: int | None, how: str, failed: str | None) -> StartupError:
        """The error (exit 70) that ends the run: the last death's ``pid``, how it ended, and why it failed."""
        why = f": {failed}" if failed else ""
        return StartupError(
            f"crash loop: {self.deaths} worker deaths within {self.seconds:g} s (server.crash_loop_deaths, "
            f"server.crash_loop_seconds); the last, pid {pid}, ended with {how}{why}. "
            "Fix the app (see the worker_died events), then start again.",
            {"deaths": self.deaths, "seconds": self.seconds, "exit": how},
        )

    def backoff(self) -> float:
        """Seconds before the next replacement: doubling with the recent deaths, capped."""
        return min(BACKOFF_CAP, BACKOFF_FIRST * 2.0 ** max(0, self.recent - 1))
