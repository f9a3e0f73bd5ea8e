"""``server.max_body_size``: a request body over the limit gets 413 (RFC 9110 §15.5.14), as nginx's
``client_max_body_size`` answers it; Hypercorn and Uvicorn have no such limit.

:class:`BodyLimit` sits between the health wrapper and the app (so the wrapper counts the 413 like any
answer, and the health endpoints are never limited). A request whose ``Content-Length`` exceeds the limit
is answered before the app sees it; any other (chunked, or lying) is counted as the app receives it, and
once over the limit the app receives ``http.disconnect`` and, if it has not started its response, the
client gets the 413 instead (whatever the app sends after is dropped, and an exception it raises on the
disconnect is not an error). Every 413 carries ``Connection: close``: the engine then closes the
connection by lingering (:mod:`resync_fsm.serving.lingering`), so the client still sending reads it.
"""

from __future__ import annotations

from .asgi import ASGIApp, Message, Receive, Scope, Send, send_body

__all__ = ["BodyLimit"]

_CLOSE = [(b"connection", b"close")]
_TEXT = b"text/plain; charset=utf-8"
_TOO_LARGE = b"Content Too Large\n"


class BodyLimit:
    """``app`` with HTTP request bodies limited to ``limit`` bytes (``limit >= 1``); other scopes pass."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await send_body(send, 413, _TEXT, _TOO_LARGE, _CLOSE)
                return
        await _Counted(self.app, self.limit, receive, send).run(scope)


class _Counted:
    """One request whose body is counted as the app receives it (see the module)."""

    def __init__(self, app: ASGIApp, limit: int, receive: Receive, send: Send) -> None:
        self.app, self.left, self._receive, self._send = app, limit, receive, send
        self.started = False  # the app started its response
        self.refused = False  # the limit was passed: the app sees a disconnect

    async def run(self, scope: Scope) -> None:
        try:
            await self.app(scope, self.receive, self.send)
        except Exception:
            if not self.refused:
                raise

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.left -= len(message.get("body", b""))
            if self.left < 0:
                self.refused = True
                if not self.started:
                    self.started = True
                    await send_body(self._send, 413, _TEXT, _TOO_LARGE, _CLOSE)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
