"""``server.root_path``: one meaning on every engine, applied here rather than by the server (issue 25).

A proxy serves the app under a prefix (``/api``) and strips it: the request arrives as
``GET /users``. The app then sees ``root_path = "/api"`` and ``path = "/api/users"``
(``raw_path`` likewise prefixed): the path includes the root path, as the ASGI spec's
HTTP scope says and Uvicorn does, so Starlette routes ``/users`` and builds
``request.url`` as ``…/api/users``. Hypercorn sets ``root_path`` alone (routing the same,
but URLs without the prefix); the engines are therefore given no root path at all and this
layer, between the health wrapper and the app, sets it for HTTP and websocket scopes: the
health endpoints answer at their own paths as the request names them (``/readyz``,
unprefixed: probes reach the pod directly), and with no root path configured the layer is
not there at all (no cost).
"""

from __future__ import annotations

from .asgi import ASGIApp, Receive, Scope, Send

__all__ = ["RootPath"]


class RootPath:
    """``app`` seeing ``root`` (``"/api"``, no trailing slash) as its ``root_path`` and in front of its ``path``."""

    def __init__(self, app: ASGIApp, root: str) -> None:
        self.app = app
        self.root = root
        self._raw = root.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope["root_path"] = self.root
            scope["path"] = self.root + scope["path"]
            raw = scope.get("raw_path")
            if raw is not None:
                scope["raw_path"] = self._raw + raw
        await self.app(scope, receive, send)
