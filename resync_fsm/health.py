"""The health endpoints, answered on the app's own listener before the app sees the request.

``/livez`` is 200 unless the lifecycle failed; ``/readyz`` is 200 only while
serving with its dependencies ok; ``/status`` is JSON with nothing secret
(``?format=mermaid``: the lifecycle diagram with the current state
highlighted). The wrapper also counts the requests in flight, which draining
reports, and passes the status to the app as the ASGI scope extension
``resync_fsm.status`` (a callable), which the built-in status page reads.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

__all__ = ["STATUS_EXTENSION", "ASGIApp", "HealthView", "HealthWrapper"]

STATUS_EXTENSION = "resync_fsm.status"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class HealthView(Protocol):
    """What the endpoints read; the runner provides it."""

    def live(self) -> tuple[bool, str]: ...

    def ready(self) -> tuple[bool, str]: ...

    def status(self) -> dict[str, Any]: ...


async def send_body(send: Send, status: int, content_type: bytes, data: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(data)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    await send_body(send, status, b"application/json", json.dumps(body, default=str).encode())


class HealthWrapper:
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
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An exception raised once the app has the startup message is a failed startup.

        Hypercorn treats any lifespan exception as "lifespan not supported" and
        serves anyway; that is right only when the app raised before reading
        anything (it does not speak lifespan). After ``lifespan.startup`` it is a
        startup that failed, and serving would hide it.
        """
        stage: str | None = None
        done = False

        async def tracking_receive() -> Message:
            nonlocal stage
            message = await receive()
            stage = message["type"]
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal done
            done = done or message["type"] in ("lifespan.startup.complete", "lifespan.startup.failed")
            await send(message)

        try:
            await self.app(scope, tracking_receive, tracking_send)
        except Exception as exc:
            if stage != "lifespan.startup" or done:
                raise
            await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})

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
            from .diagram import mermaid

            await send_body(send, 200, b"text/plain; charset=utf-8", mermaid(active=body["state"]).encode())
            return
        await send_json(send, 200, body)
