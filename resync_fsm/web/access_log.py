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

With JSON logging (off a TTY) the event is rendered here, on a fast path: the fields
are known, so only the strings a client sends (path and query, client, request id)
are scrubbed of registered secrets, numbers are written as they are, and the line goes
to :class:`~resync_fsm.logs.JsonLines` (flushed within 20 ms rather than per line). It
is the line structlog would render, field for field and in the same order; any other
configuration (the console on a TTY, context variables bound, a test capturing
events) takes structlog's own path.
"""

from __future__ import annotations

import json
import time
from typing import Any

import structlog

from ..logs import get_logger, json_lines
from ..redaction import mask_query, scrub
from .asgi import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLog"]

log = get_logger("resync_fsm.access")


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    if not client:
        return None
    host, port = client[0], client[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


_string = json.encoder.encode_basestring_ascii  # json.dumps' own, in C


def _json(value: object) -> str:
    """``value`` as structlog's JSONRenderer writes it (json.dumps, ASCII); strings scrubbed."""
    if value is None:
        return "null"
    if type(value) is str:
        return _string(scrub(value))
    if type(value) is int:
        return str(value)
    return json.dumps(value, default=repr)


def _bound_context() -> bool:
    """Whether any structlog context variable was ever bound (then the events carry them: structlog's path)."""
    bound = getattr(structlog.contextvars, "_CONTEXT_VARS", None)
    return bool(bound) if bound is not None else bool(structlog.contextvars.get_contextvars())


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
        status: Any = None
        sent = 0

        async def logged_send(message: Message) -> None:
            nonlocal status, sent
            kind = message["type"]
            if kind == "http.response.body":
                sent += len(message.get("body", b""))
            elif kind == "http.response.start":
                status = message["status"]
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.close" and status is None:
                status = 403  # closed before accepting: the server answers 403
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        except Exception:
            if status is None:
                status = 500
            raise
        finally:
            duration_ms = round((time.perf_counter() - start) * 1000, 3)
            query = scope.get("query_string", b"")
            path = scope["path"] + ("?" + mask_query(query.decode("latin-1")) if query else "")
            self._emit(scope, scope.get("method", "GET"), path, status, sent, duration_ms)

    def _emit(self, scope: Scope, method: str, path: str, status: Any, sent: int, duration_ms: float) -> None:
        lines = json_lines()
        if lines is not None and lines.active() and not _bound_context():
            if lines.info:  # else filtered out, as structlog's filtering logger would
                lines.write(
                    f'{{"method": {_string(method)}, "path": {_json(path)}, "status": {_json(status)}, '
                    f'"bytes": {sent}, "duration_ms": {duration_ms!r}, "client": {_json(_client(scope))}, '
                    f'"request_id": {_json(_request_id(scope))}, "event": "access", "level": "info", '
                    f'"timestamp": "{lines.timestamp()}"}}')
            return
        self.log.info("access", method=method, path=path, status=status, bytes=sent, duration_ms=duration_ms,
                      client=_client(scope), request_id=_request_id(scope))
