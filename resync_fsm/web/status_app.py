"""The built-in app, served when no ``--app`` is given: the status page at ``/``.

The page (diagram with the current state highlighted, transitions, probes)
comes from the runner's status, which the health wrapper passes in the ASGI
scope; served without the runner, ``/`` says so. Where the wrapper says the
page is not shown on this listener (``server.expose_status``), ``/`` is a 404
pointing at the management listener.
"""

from __future__ import annotations

from .asgi import STATUS_EXTENSION, STATUS_PAGE_EXTENSION, Receive, Scope, Send, send_body

__all__ = ["app", "complete_lifespan"]

_NOT_RUNNER = b"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>resync_fsm</title></head>
<body><p>resync_fsm's built-in app: run it with <code>python -m resync_fsm</code> for its status page.</p></body></html>
"""
_NOT_HERE = (b"Not Found: the status page is not served on this listener; see server.management_bind "
             b"and server.expose_status\n")


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
    """The built-in ASGI app: the status page at ``/`` (from the runner's status extension), 404 elsewhere."""
    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    if scope["path"] != "/":
        await send_body(send, 404, b"text/plain", b"not found\n")
        return
    extensions = scope.get("extensions", {})
    status = extensions.get(STATUS_EXTENSION)
    if not extensions.get(STATUS_PAGE_EXTENSION, True):
        await send_body(send, 404, b"text/plain; charset=utf-8", _NOT_HERE)
        return
    if status is None:
        await send_body(send, 200, b"text/html; charset=utf-8", _NOT_RUNNER)
        return
    from .page import render_page

    await send_body(send, 200, b"text/html; charset=utf-8", render_page(status()))
