"""The health endpoints, answered on the app's own listener before the app sees the request.

``/livez`` is 200 unless the lifecycle failed; ``/readyz`` is 200 only while
serving with its dependencies ok; ``/status`` is JSON with nothing secret
(``?format=mermaid``: the lifecycle diagram with the current state
highlighted). The wrapper also counts the requests in flight, which draining
reports, and passes the status to the app as the ASGI scope extension
``resync_fsm.status`` (a callable), which the built-in status page reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from .asgi import ASGIApp, Receive, Scope, Send, send_body, send_json

__all__ = ["STATUS_EXTENSION", "HealthView", "HealthWrapper"]

STATUS_EXTENSION = "resync_fsm.status"


class HealthView(Protocol):
    """What the endpoints read; the runner provides it."""

    def live(self) -> tuple[bool, str]: ...

    def ready(self) -> tuple[bool, str]: ...

    def status(self) -> dict[str, Any]: ...


class HealthWrapper:
    """An ASGI app answering the health endpoints itself and passing everything else to ``app``.

    ``view`` supplies liveness, readiness and the status document (DESIGN §5);
    paths come from ``server.*_path``. ``in_flight`` counts the app's HTTP
    requests in progress. Lifespan and websocket scopes pass through.
    """

    def __init__(
        self,
        app: ASGIApp,
        view: HealthView,
        *,
        livez: str = "/livez",
        readyz: str = "/readyz",
        status: str = "/status",
    ) -> None:
        self.app = app
        self.view = view
        self.in_flight = 0
        self._status_callable = self._full_status  # bound once, not per request
        self._routes: dict[str, Callable[[Scope, Send], Awaitable[None]]] = {
            livez: self._livez,
            readyz: self._readyz,
            status: self._status,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self._routes.get(scope["path"])
            if route is not None and scope["method"] in ("GET", "HEAD"):
                await route(scope, send)
                return
            scope.setdefault("extensions", {})[STATUS_EXTENSION] = self._status_callable
            self.in_flight += 1
            try:
                await self.app(scope, receive, send)
            finally:
                self.in_flight -= 1
            return
        await self.app(scope, receive, send)

    def _full_status(self) -> dict[str, Any]:
        body = self.view.status()
        body["in_flight"] = self.in_flight
        return body

    async def _livez(self, scope: Scope, send: Send) -> None:
        ok, state = self.view.live()
        await send_json(send, 200 if ok else 503, {"live": ok, "state": state})

    async def _readyz(self, scope: Scope, send: Send) -> None:
        ok, state = self.view.ready()
        await send_json(send, 200 if ok else 503, {"ready": ok, "state": state})

    async def _status(self, scope: Scope, send: Send) -> None:
        body = self._full_status()
        if b"format=mermaid" in scope.get("query_string", b""):
            from ..diagram import mermaid

            await send_body(send, 200, b"text/plain; charset=utf-8", mermaid(active=body["state"]).encode())
            return
        await send_json(send, 200, body)
