"""Counting the app's requests toward ``server.max_requests``: a worker's recycle (Gunicorn's
``--max-requests``) or, with one process, the process's drain and exit 0 (Uvicorn's
``--limit-max-requests``); shared by the worker processes and the in-process serving (issue 22)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol

from ..web.asgi import ASGIApp, Receive, Scope, Send

__all__ = ["Counts", "RequestCounter", "recycle_limit"]


class Counts(Protocol):
    """Where a worker publishes its counts for the supervisor (:class:`~.workers.counts.RequestTable`)."""

    def count(self, cell: int, requests: int, in_flight: int) -> None:
        """Cell ``cell`` now holds ``requests`` served and ``in_flight`` in progress."""


def recycle_limit(max_requests: int, jitter: int, rng: random.Random | None = None) -> int:
    """Requests one worker serves before its replacement: ``max_requests`` plus 0..``jitter`` at random
    (Gunicorn's ``--max-requests-jitter``); 0 when recycling is off (``max_requests`` 0)."""
    if max_requests <= 0:
        return 0
    return max_requests + (rng or random).randint(0, jitter)


class RequestCounter:
    """Counts the app's requests and websockets, and those in flight (into cell ``cell`` of ``table`` too,
    when given: a worker's counts, exact at once for the supervisor); at ``limit`` (0: none) calls
    ``reached`` once."""

    def __init__(self, app: ASGIApp, limit: int, reached: Callable[[], None], table: Counts | None = None,
                 cell: int = 0) -> None:
        self.app, self.limit, self.reached, self.count, self.in_flight = app, limit, reached, 0, 0
        self.table, self.cell = table, cell

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        self.count += 1
        self.in_flight += 1
        self._publish()
        if self.count == self.limit:
            self.reached()
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self._publish()

    def _publish(self) -> None:
        if self.table is not None:
            self.table.count(self.cell, self.count, self.in_flight)
