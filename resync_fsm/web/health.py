"""The health wrapper: the runner's endpoints answered before the app sees the request.

The endpoints themselves are in :mod:`.endpoints`; what the wrapper answers itself (endpoints,
management listeners, the 503 beyond the limit, websockets, the server's lifespan) in :mod:`.answers`.
The wrapper passes the status to the app as the scope extension ``resync_fsm.status`` (a callable: the
app can see ``"draining"``), and whether the status page may be shown on this listener as
``resync_fsm.status_page`` (a bool, read by the built-in app).

Exposure (issue 13, docs/operations.md "Exposure"): a public listener answers ``/livez`` and ``/readyz``,
``/status`` only with ``public_status`` and ``/metrics`` only with ``public_metrics``, and passes the rest
to the app. A management listener (:mod:`.exposure`, Spring Boot's management port) answers those and
the status page at ``/``, 404 for anything else.

The drain's per-connection duties (DESIGN §5): requests and websockets in flight counted, and those cut
by the graceful timeout; while draining every HTTP/1.x response carries ``Connection: close`` (so that a
proxy or a busy keep-alive client does not hold the drain); when the listener closes, open websockets
get a 1001 close (:mod:`.websockets`).
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Awaitable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from .answers import Answers, Route
from .asgi import STATUS_EXTENSION, STATUS_PAGE_EXTENSION, ASGIApp, Message, Receive, Scope, Send
from .endpoints import Endpoints, with_close
from .exposure import Listeners
from .metrics import FIRST_BOUND, REQUEST_BUCKETS
from .view import HealthView

if TYPE_CHECKING:
    from .metrics import Durations, RunnerMetrics

__all__ = ["STATUS_EXTENSION", "STATUS_PAGE_EXTENSION", "HealthView", "HealthWrapper"]


class HealthWrapper(Answers):
    """An ASGI app answering the health endpoints itself and passing everything else to ``app``.

    ``view`` supplies liveness, readiness and the status document (DESIGN §5);
    paths come from ``server.*_path``. ``in_flight`` counts the app's HTTP
    requests in progress; with ``limit`` (``server.limit_concurrency``, Uvicorn's
    ``--limit-concurrency``), a request beyond it is answered 503 with
    ``Retry-After: 1`` and a websocket closed with 1013, the health endpoints still
    answered. Lifespan and websocket scopes pass through. With ``metrics``
    (:class:`~.metrics.RunnerMetrics`), ``metrics_path`` serves them and every app
    request and endpoint hit is counted. ``public_status`` and ``public_metrics``: whether the
    public listeners answer ``status`` and ``metrics_path`` (see the module); the backend reports
    the management listeners through :meth:`management_listening` once they are bound.
    """

    _table: dict[str, dict[int, Durations]] | None

    def __init__(
        self,
        app: ASGIApp,
        view: HealthView,
        *,
        livez: str = "/livez",
        readyz: str = "/readyz",
        status: str = "/status",
        metrics: RunnerMetrics | None = None,
        metrics_path: str = "/metrics",
        limit: int | None = None,
        public_status: bool = True,
        public_metrics: bool = True,
    ) -> None:
        self.app = app
        self.limit = limit  # most requests and websockets in the app at once; beyond it 503
        self.view = view
        self.in_flight = 0  # HTTP requests and websockets the app is handling
        self.cut = 0  # requests and websockets cancelled (the graceful timeout ran out)
        self.draining = False  # set by the runner on entering draining
        self._closing: Any = None  # an anyio.Event on the app's loop, made with the first websocket
        self._listener_closed = False
        self.public_status = public_status
        # what every app request's and websocket's scope carries (copied into it; see the module)
        self._extensions = {STATUS_EXTENSION: self._full_status, STATUS_PAGE_EXTENSION: public_status}
        self.management = Listeners()
        self._management = False  # any management listener bound (read per request: a plain bool)
        self._guarded = limit is not None  # a request may be answered here although its path is the app's
        endpoints = Endpoints(view, self._full_status)
        self._management_routes: dict[str, Route] = {livez: endpoints.livez, readyz: endpoints.readyz,
                                                     status: endpoints.status, "/": endpoints.page}
        self.metrics = metrics
        if metrics is not None:
            metrics.traffic = self  # /metrics reads the requests in flight and cut here
        # the request series, counted inline (RunnerMetrics.observe_request's work, without its call)
        self._table = metrics.request_table() if metrics is not None else None
        self._roles: dict[str, str] = {}  # path -> the endpoint's role, counted per hit
        if metrics is not None:
            self._management_routes[metrics_path] = metrics.serve
            self._roles = {livez: "livez", readyz: "readyz", status: "status", metrics_path: "metrics"}
        self.lifespan_state: dict[str, Any] | None = None  # see answer_server_lifespan
        hidden = {path for path, shown in ((status, public_status), (metrics_path, public_metrics)) if not shown}
        self._routes: dict[str, Route] = {
            path: route for path, route in self._management_routes.items() if path != "/" and path not in hidden}

    def management_listening(self, addresses: list[tuple[str, int | None]], urls: list[str]) -> None:
        """The management listeners are bound at ``addresses`` (``(host, port)``, ``(path, None)``),
        reached at ``urls``; called by the backend before it serves."""
        self.management.bound(addresses, urls)
        self._management = bool(self.management)
        self._guarded = self._management or self.limit is not None

    def answer_server_lifespan(self, state: dict[str, Any]) -> None:
        """resync_fsm runs the app's lifespan itself (:mod:`~resync_fsm.serving.lifespan`, which calls
        :attr:`app`): from now on the server's own lifespan scope is answered here, never reaching the
        app, and ``state`` (the app's lifespan state) is copied into each request's scope, as ASGI's
        lifespan state extension asks of a server."""
        self.lifespan_state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._guarded or scope["path"] in self._routes:
            if await self._answered(scope, receive, send):
                return
        # An app request: kept to this one frame and one plain send wrapper (a function returning the server's
        # awaitable, as ASGI asks; no coroutine of its own), counted in flight (and cut), its status and
        # duration observed, ``Connection: close`` added to a response started while draining (HTTP/1.x:
        # HTTP/2 closes with GOAWAY). The wrapper's variables are its defaults, not a closure's cells: cheaper
        # to make. Each step's cost per request: docs/benchmarks.md ("Instructions per request").
        extensions = scope.get("extensions")
        if extensions is None:
            scope["extensions"] = self._extensions.copy()
        else:
            extensions.update(self._extensions)
        state = self.lifespan_state
        if state:
            scope["state"] = state.copy()
        status = 0

        def respond(message: Message, send: Send = send, wrapper: HealthWrapper = self,
                    scope: Scope = scope) -> Awaitable[None]:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if wrapper.draining and scope.get("http_version") != "2":
                    message = with_close(message)
            return send(message)

        table = self._table
        self.in_flight += 1
        started = perf_counter()
        try:
            await self.app(scope, receive, respond)
        except BaseException as exc:
            if not isinstance(exc, Exception):  # trio.Cancelled, asyncio.CancelledError: cut
                self.cut += 1
            elif not status:
                status = 500  # what the server answers for an app that raised before responding
            raise
        else:
            if not status:
                status = 500  # what Hypercorn and Uvicorn answer for an app that returned without responding
        finally:
            self.in_flight -= 1
            if table is not None:  # RunnerMetrics.observe_request, inline
                seconds = perf_counter() - started
                try:
                    row = table[scope["method"]][status]
                except (KeyError, TypeError):  # a method or status outside the table's
                    assert self.metrics is not None  # it made the table
                    row = self.metrics.request_row(scope["method"], status)
                row.counts[0 if seconds <= FIRST_BOUND else bisect_left(REQUEST_BUCKETS, seconds)] += 1
                row.sum += seconds
