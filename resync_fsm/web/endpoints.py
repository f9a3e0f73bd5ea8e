"""The runner's own endpoints, as the health wrapper (:mod:`.health`) routes them.

``/livez`` is 200 unless the lifecycle failed; ``/readyz`` is 200 only while
serving with its dependencies ok (DESIGN §5); ``/status`` is JSON with nothing
secret (``?format=mermaid``: the lifecycle diagram with the current state
highlighted); ``/`` on a management listener is the status page. Also the two
message helpers the wrapper needs: the server's lifespan answered, and
``Connection: close`` put on a response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .asgi import Message, Receive, Scope, Send, send_body, send_json
from .view import HealthView

__all__ = ["Endpoints", "HealthView", "answer_lifespan", "with_close"]


class Endpoints:
    """The endpoints over ``view``; ``status()`` is the ``/status`` document (the view's, with the
    requests in flight). Each is an ASGI-like ``route(scope, send)`` for a GET or HEAD."""

    def __init__(self, view: HealthView, status: Callable[[], dict[str, Any]]) -> None:
        self.view = view
        self.full_status = status

    async def livez(self, scope: Scope, send: Send) -> None:
        """200 ``{"live": true, "state": ...}`` unless the lifecycle failed (then 503)."""
        ok, state = self.view.live()
        await send_json(send, 200 if ok else 503, {"live": ok, "state": state})

    async def readyz(self, scope: Scope, send: Send) -> None:
        """200 ``{"ready": true, "state": ...}`` only while serving with every critical probe ok, else 503."""
        ok, state = self.view.ready()
        await send_json(send, 200 if ok else 503, {"ready": ok, "state": state})

    async def status(self, scope: Scope, send: Send) -> None:
        """The status document as JSON; with ``?format=mermaid``, the diagram with the current state marked."""
        body = self.full_status()
        if b"format=mermaid" in scope.get("query_string", b""):
            from ..diagram import mermaid

            await send_body(send, 200, b"text/plain; charset=utf-8", mermaid(active=body["state"]).encode())
            return
        await send_json(send, 200, body)

    async def page(self, scope: Scope, send: Send) -> None:
        """The status page (HTML, refreshing itself)."""
        from .page import render_page

        await send_body(send, 200, b"text/html; charset=utf-8", render_page(self.full_status()))


async def answer_lifespan(receive: Receive, send: Send) -> None:
    """A server's lifespan scope, answered at once: resync_fsm runs the app's itself (see
    :meth:`~.health.HealthWrapper.answer_server_lifespan`)."""
    while True:
        message = await receive()
        kind = message["type"].rsplit(".", 1)[-1]
        await send({"type": f"lifespan.{kind}.complete"})
        if kind == "shutdown":
            return


def with_close(message: Message) -> Message:
    """An ``http.response.start`` message with ``Connection: close`` in place of any connection header."""
    headers = [h for h in message.get("headers", ()) if bytes(h[0]).lower() != b"connection"]
    return {**message, "headers": [*headers, (b"connection", b"close")]}
