"""The health wrapper: the runner's endpoints answered before the app sees the request.

The endpoints are in :mod:`.endpoints`. The app gets the status as the scope extension ``resync_fsm.status``
(a callable) and whether this listener shows the status page as ``resync_fsm.status_page`` (a bool).

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
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from .asgi import STATUS_EXTENSION, STATUS_PAGE_EXTENSION, ASGIApp, Message, Receive, Scope, Send, send_body
from .endpoints import Endpoints, answer_lifespan, with_close
from .exposure import Listeners
from .view import HealthView

if TYPE_CHECKING:
    from .metrics import Durations, RunnerMetrics

__all__ = ["STATUS_EXTENSION", "STATUS_PAGE_EXTENSION", "HealthView", "HealthWrapper"]

_Route = Callable[[Scope, Send], Awaitable[None]]


class HealthWrapper:
    """An ASGI app answering the health endpoints itself and passing everything else to ``app``.

    ``view`` supplies liveness, readiness and the status document (DESIGN §5); paths come from
    ``server.*_path``. ``in_flight`` counts the app's HTTP requests in progress; with ``limit``
    (``server.limit_concurrency``, Uvicorn's ``--limit-concurrency``), a request beyond it is answered
    503 with ``Retry-After: 1`` (and counted as a 503) and a websocket closed with 1013, the health
    endpoints still answered. Lifespan and websocket scopes pass through. With ``metrics``
    (:class:`~.metrics.RunnerMetrics`), ``metrics_path`` serves them and every app request and endpoint
    hit is counted. ``public_status``, ``public_metrics``: whether the public listeners answer ``status``
    and ``metrics_path``; the engine reports the management listeners (:meth:`management_listening`).
    """

    _table: dict[str, tuple[Durations, ...]] | None  # the request series, per method (see metrics)
    _other_rows: tuple[Durations, ...]

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
        self.in_flight, self.cut = 0, 0  # HTTP requests and websockets in the app; those cancelled (cut)
        self.draining = False  # set by the runner on entering draining
        self._closing: Any = None  # an anyio.Event on the app's loop, made with the first websocket
        self._listener_closed = False
        self.public_status = public_status
        # what every app request's and websocket's scope carries (copied into it; see the module)
        self._extensions = {STATUS_EXTENSION: self._full_status, STATUS_PAGE_EXTENSION: public_status}
        self.management = Listeners()
        self._management = False  # any management listener bound (read per request: a plain bool)
        endpoints = Endpoints(view, self._full_status)
        self._management_routes: dict[str, _Route] = {livez: endpoints.livez, readyz: endpoints.readyz,
                                                     status: endpoints.status, "/": endpoints.page}
        self.metrics = metrics
        if metrics is not None:
            metrics.traffic = self  # /metrics reads the requests in flight and cut here
        # the request series, counted inline (RunnerMetrics.observe_request's work, without its call)
        self._table, self._other_rows = metrics.request_table() if metrics is not None else (None, ())
        self._roles: dict[str, str] = {}  # path -> the endpoint's role, counted per hit
        if metrics is not None:
            self._management_routes[metrics_path] = metrics.serve
            self._roles = {livez: "livez", readyz: "readyz", status: "status", metrics_path: "metrics"}
        self.lifespan_state: dict[str, Any] | None = None  # see answer_server_lifespan
        hidden = {path for path, shown in ((status, public_status), (metrics_path, public_metrics)) if not shown}
        self._routes: dict[str, _Route] = {
            path: route for path, route in self._management_routes.items() if path != "/" and path not in hidden}

    def management_listening(self, addresses: list[tuple[str, int | None]], urls: list[str]) -> None:
        """The management listeners are bound at ``addresses`` (``(host, port)``, ``(path, None)``),
        reached at ``urls``; called by the backend before it serves."""
        self.management.bound(addresses, urls)
        self._management = bool(self.management)

    def answer_server_lifespan(self, state: dict[str, Any]) -> None:
        """resync_fsm runs the app's lifespan itself (:mod:`~resync_fsm.serving.lifespan`, which calls
        :attr:`app`): from now on the server's own lifespan scope is answered here, never reaching the
        app, and ``state`` (the app's lifespan state) is copied into each request's scope, as ASGI's
        lifespan state extension asks of a server."""
        self.lifespan_state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._other(scope, receive, send)
            return
        if self._management and self.management.is_management(scope):
            await self._manage(scope, send)
            return
        route = self._routes.get(scope["path"])
        if route is not None and scope["method"] in ("GET", "HEAD"):
            await self._answer(route, scope, send)
            return
        if self.limit is not None and self.in_flight >= self.limit:
            await send_body(self._closing_send(send, scope), 503, b"text/plain; charset=utf-8",
                            b"Service Unavailable: too busy\n", [(b"retry-after", b"1")])
            if self.metrics is not None:  # an app request refused is an answer the app's clients got
                self.metrics.observe_request(scope["method"], 503, 0.0)
            return
        # An app request: kept to this one frame and one ``async def`` send wrapper (as the servers' own),
        # counted in flight (and cut), its status and duration observed, ``Connection: close`` added to a
        # response started while draining (HTTP/1.x: HTTP/2 closes with GOAWAY). Its cost per request:
        # docs/benchmarks.md ("Instructions per request").
        self._extend(scope)
        status = 0

        async def respond(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if self.draining and scope.get("http_version") != "2":
                    message = with_close(message)
            await send(message)

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
            if table is not None:  # RunnerMetrics.observe_request, inlined
                seconds = perf_counter() - started
                hundreds = status // 100
                row = table.get(scope["method"], self._other_rows)[hundreds if 0 < hundreds < 6 else 0]
                row.counts[bisect_left(row.bounds, seconds)] += 1
                row.sum += seconds

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A websocket (counted in flight, closed with 1001 when the listener closes) or a lifespan scope."""
        if scope["type"] == "websocket":
            from .websockets import serve_websocket

            if self._management and self.management.is_management(scope):
                await send({"type": "websocket.close", "code": 1008})  # policy violation: not served here
                return
            if self.limit is not None and self.in_flight >= self.limit:
                await send({"type": "websocket.close", "code": 1013})  # try again later (RFC 6455 registry)
                return
            self._extend(scope)
            closing = self._closing_event()
            self.in_flight += 1
            try:
                await serve_websocket(self.app, scope, receive, send, closing)
            except BaseException as exc:
                if not isinstance(exc, Exception):  # trio.Cancelled, asyncio.CancelledError: cut
                    self.cut += 1
                raise
            finally:
                self.in_flight -= 1
            return
        if scope["type"] == "lifespan" and self.lifespan_state is not None:
            await answer_lifespan(receive, send)
            return
        await self.app(scope, receive, send)

    def _extend(self, scope: Scope) -> None:
        """What every request and websocket scope carries to the app: the extensions, the lifespan state."""
        extensions = scope.get("extensions")
        if extensions is None:
            scope["extensions"] = self._extensions.copy()
        else:
            extensions.update(self._extensions)
        state = self.lifespan_state
        if state:
            scope["state"] = state.copy()

    async def _answer(self, route: _Route, scope: Scope, send: Send) -> None:
        """One of the runner's endpoints, counted by role (with metrics)."""
        if self.metrics is not None:
            role = self._roles.get(scope["path"])
            if role is not None:
                self.metrics.health[role] += 1
        await route(scope, self._closing_send(send, scope))

    def _closing_send(self, send: Send, scope: Scope) -> Send:
        """``send``, or while draining on HTTP/1.x, ``send`` adding ``Connection: close`` to the response."""
        if not self.draining or scope.get("http_version") == "2":
            return send

        def closing_send(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                message = with_close(message)
            return send(message)

        return closing_send

    def _closing_event(self) -> Any:
        if self._closing is None:
            import anyio

            self._closing = anyio.Event()  # on the app's loop, where websockets run
            if self._listener_closed:  # a websocket opened after the listener began to close
                self._closing.set()
        return self._closing

    def listener_closing(self) -> None:
        """The server stops accepting: close open websockets with 1001. Call on the app's loop."""
        self.draining = True
        self._listener_closed = True
        if self._closing is not None:
            self._closing.set()

    def _full_status(self) -> dict[str, Any]:
        body = {**self.view.status()}
        body.setdefault("in_flight", self.in_flight)  # a view over several processes gives their sum
        return body

    async def _manage(self, scope: Scope, send: Send) -> None:
        """A request on a management listener: its routes, else 404; never the app."""
        route = self._management_routes.get(scope["path"])
        if route is None or scope["method"] not in ("GET", "HEAD"):
            await send_body(send, 404, b"text/plain; charset=utf-8", b"Not Found\n")
            return
        await self._answer(route, scope, send)
