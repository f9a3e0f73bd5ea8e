"""The app as any backend serves it: lifespan answered, proxy headers believed, requests logged.

Engine-neutral (issue 14): a backend wraps the health wrapper with
:func:`serving_app` and maps the rest of the settings onto its own server (see
:func:`~resync_fsm.backends.hypercorn.hypercorn_config`), with its own proxy
headers and access log turned off. Outermost first: the server's lifespan
scope is answered at once (resync_fsm runs the app's, :mod:`.lifespan`), the
lifespan ``state`` is copied into every scope, trusted proxies' headers set the
client, scheme and host (:mod:`~resync_fsm.web.proxy_headers`), then the access
log (:mod:`~resync_fsm.web.access_log`) sees the corrected request, then the
health wrapper and the app.
"""

from __future__ import annotations

from ..settings.model import Settings
from ..web.access_log import AccessLog
from ..web.asgi import ASGIApp, Receive, Scope, Send
from ..web.proxy_headers import ProxyHeaders
from .lifespan import Lifespan

__all__ = ["serving_app"]


def serving_app(app: ASGIApp, lifespan: Lifespan, settings: Settings) -> ASGIApp:
    """``app`` (the health wrapper) as the server sees it (see the module).

    ``server.forwarded_allow_ips`` empty: no proxy header is read;
    ``access_log.enabled`` false: no access middleware at all (no cost).
    """
    inner = app
    if settings.access_log.enabled:
        server = settings.server
        skip = frozenset() if settings.access_log.health else frozenset(
            (server.livez_path, server.readyz_path, server.status_path))
        inner = AccessLog(inner, skip=skip)
    if settings.server.forwarded_allow_ips:
        inner = ProxyHeaders(inner, settings.server.forwarded_allow_ips)

    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        if lifespan.state:
            scope["state"] = dict(lifespan.state)
        await inner(scope, receive, send)

    return served
