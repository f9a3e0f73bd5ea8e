"""The built-in app, served when no ``--app`` is given: a small page pointing at the health endpoints."""

from __future__ import annotations

from .health import Receive, Scope, Send

__all__ = ["app", "complete_lifespan"]

_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>resync_fsm</title></head>
<body><h1>resync_fsm is serving</h1>
<p>Health: <a href="/livez">/livez</a> &middot; <a href="/readyz">/readyz</a>
&middot; <a href="/status">/status</a></p></body></html>
"""


async def complete_lifespan(receive: Receive, send: Send) -> None:
    """The lifespan protocol for an app with nothing to start or stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    found = scope["path"] == "/"
    body = _PAGE if found else b"not found\n"
    await send(
        {
            "type": "http.response.start",
            "status": 200 if found else 404,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8" if found else b"text/plain"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
