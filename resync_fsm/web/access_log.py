"""The access log: one structured ``access`` event per request, through the service's own logging.

Off by default, as in Hypercorn and Gunicorn (Uvicorn logs by default): behind an
ingress or load balancer the requests are logged there already, and a log line
per request is the cost the operator opts into (docs/benchmarks.md measures it).
Each event carries ``method``, ``path`` (query values named like credentials
masked), ``status``, ``bytes`` (response body), ``duration_ms``, ``client``
(``host:port``, the proxy-corrected one when :mod:`.proxy_headers` runs first)
and ``request_id`` when the client sent ``X-Request-ID``. The health endpoints
are left out unless ``access_log.health``; a websocket is logged with status 101
when accepted. A request the app fails before responding is logged with status
500, as the server answers it.
"""

from __future__ import annotations

import time
from typing import Any

from ..logs import get_logger
from ..redaction import mask_query
from .asgi import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLog"]

log = get_logger("resync_fsm.access")


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    if not client:
        return None
    host, port = client[0], client[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            return bytes(value[:200]).decode("latin-1")
    return None


class AccessLog:
    """ASGI middleware logging every HTTP request and websocket of ``app`` (see the module).

    ``skip`` is the set of paths not logged (the health endpoints).
    """

    def __init__(self, app: ASGIApp, *, skip: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.skip = skip
        self.log = log.bind()  # resolved once, with the logging configured by now (not per request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or scope["path"] in self.skip:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        seen: dict[str, Any] = {"status": None, "bytes": 0}

        async def logged_send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                seen["status"] = message["status"]
            elif kind == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            elif kind == "websocket.accept":
                seen["status"] = 101
            elif kind == "websocket.close" and seen["status"] is None:
                seen["status"] = 403  # closed before accepting: the server answers 403
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        except Exception:
            if seen["status"] is None:
                seen["status"] = 500
            raise
        finally:
            query = scope.get("query_string", b"")
            path = scope["path"] + ("?" + mask_query(query.decode("latin-1")) if query else "")
            self.log.info("access", method=scope.get("method", "GET"), path=path, status=seen["status"],
                     bytes=seen["bytes"], duration_ms=round((time.perf_counter() - start) * 1000, 3),
                     client=_client(scope), request_id=_request_id(scope))
