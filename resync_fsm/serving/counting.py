"""Counting the app's requests toward ``server.max_requests``: a worker's recycle (Gunicorn's
``--max-requests``) or, with one process, the process's drain and exit 0 (Uvicorn's
``--limit-max-requests``); shared by the worker processes and the in-process serving (issue 22)."""

from __future__ import annotations

import random
from collections.abc import Callable

from ..web.asgi import ASGIApp, Receive, Scope, Send

__all__ = ["RequestCounter", "recycle_limit"]


def recycle_limit(max_requests: int, jitter: int, rng: random.Random | None = None) -> int:
    """Requests one worker serves before its replacement: ``max_requests`` plus 0..``jitter`` at random
    (Gunicorn's ``--max-requests-jitter``); 0 when recycling is off (``max_requests`` 0)."""
    if max_requests <= 0:
        return 0
    return max_requests + (rng or random).randint(0, jitter)


class RequestCounter:
    """Counts the app's requests and websockets; at ``limit`` (0: none) calls ``reached`` once."""

    def __init__(self, app: ASGIApp, limit: int, reached: Callable[[], None]) -> None:
        self.app, self.limit, self.reached, self.count = app, limit, reached, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            self.count += 1
            if self.count == self.limit:
                self.reached()
        await self.app(scope, receive, send)
