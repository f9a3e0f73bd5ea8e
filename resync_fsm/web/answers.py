"""What the health wrapper (:mod:`.health`) answers itself, off the app requests' path: the runner's
endpoints (counted by role), the management listeners' requests, the 503 beyond ``server.limit_concurrency``,
websockets (counted in flight and cut, closed with 1001 when the listener closes: :mod:`.websockets`) and
the server's lifespan scope (answered at once: resync_fsm runs the app's). The wrapper's
``__call__`` keeps app requests to one frame; everything else comes here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .asgi import ASGIApp, Message, Receive, Scope, Send, send_body
from .endpoints import answer_lifespan, with_close
from .exposure import Listeners
from .view import HealthView

if TYPE_CHECKING:
    from .metrics import RunnerMetrics

__all__ = ["Answers", "Route"]

Route = Callable[[Scope, Send], Awaitable[None]]


class Answers:
    """The health wrapper's state (set by :class:`~.health.HealthWrapper`) and the answers it gives itself."""

    app: ASGIApp
    view: HealthView
    limit: int | None
    in_flight: int
    cut: int
    draining: bool
    metrics: RunnerMetrics | None
    management: Listeners
    lifespan_state: dict[str, Any] | None
    _management: bool
    _routes: dict[str, Route]
    _management_routes: dict[str, Route]
    _roles: dict[str, str]
    _extensions: dict[str, Any]
    _closing: Any  # an anyio.Event on the app's loop, made with the first websocket
    _listener_closed: bool

    async def _answered(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Whether the request was answered here (not a plain app request): a lifespan or websocket scope, a
        request on a management listener, one of the runner's endpoints, or a 503 beyond ``limit``."""
        if scope["type"] != "http":
            await self._other(scope, receive, send)
            return True
        if self._management and self.management.is_management(scope):
            await self._manage(scope, send)
            return True
        route = self._routes.get(scope["path"])
        if route is not None and scope["method"] in ("GET", "HEAD"):
            await self._answer(route, scope, send)
            return True
        if self.limit is not None and self.in_flight >= self.limit:
            await send_body(self._closing_send(send, scope), 503, b"text/plain; charset=utf-8",
                            b"Service Unavailable: too busy\n", [(b"retry-after", b"1")])
            if self.metrics is not None:  # an app request refused is an answer the app's clients got (issue 23)
                self.metrics.observe_request(scope["method"], 503, 0.0)
            return True
        return False

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
        """What every websocket scope carries to the app: the extensions, the lifespan state (an app request's
        gets the same from the lines inlined in :meth:`~.health.HealthWrapper.__call__`: a call less there)."""
        extensions = scope.get("extensions")
        if extensions is None:
            scope["extensions"] = self._extensions.copy()
        else:
            extensions.update(self._extensions)
        state = self.lifespan_state
        if state:
            scope["state"] = state.copy()

    async def _answer(self, route: Route, scope: Scope, send: Send) -> None:
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
        return {**self.view.status(), "in_flight": self.in_flight}

    async def _manage(self, scope: Scope, send: Send) -> None:
        """A request on a management listener: its routes, else 404; never the app."""
        route = self._management_routes.get(scope["path"])
        if route is None or scope["method"] not in ("GET", "HEAD"):
            await send_body(send, 404, b"text/plain; charset=utf-8", b"Not Found\n")
            return
        await self._answer(route, scope, send)
