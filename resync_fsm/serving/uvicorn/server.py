"""Uvicorn behind the :class:`~resync_fsm.serving.interface.Server` interface, on asyncio or uvloop (issue 15).

One ``uvicorn.Server`` driven programmatically on the host loop through an
:class:`~resync_fsm.serving.loop_bridge.AsyncioBridge`, as Hypercorn is: sockets bound
beforehand (:mod:`~resync_fsm.serving.binding`: the same socket options and bind errors on
both engines), the app's lifespan run by resync_fsm (:mod:`~resync_fsm.serving.lifespan`;
Uvicorn's own is off), readiness
once Uvicorn's startup has returned with ``started`` true (every listener serving),
shutdown through ``should_exit`` (the seed's sixth fix), in-flight work bounded by its
``timeout_graceful_shutdown``. Uvicorn's signal handlers are never installed (the
runner's stay in charge, DESIGN §1), and a ``sys.exit`` from it becomes a
:class:`~resync_fsm.errors.StartupError`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import anyio
import trio
import uvicorn

from ...errors import StartupError
from ...settings.model import Settings
from ...settings.parsers_system import CLIENT_CERT_MODES
from ...web.asgi import ASGIApp
from ...web.health import HealthWrapper
from ..binding import close_all, merged, urls_of
from ..in_process import InProcessServer
from ..interface import OnFault
from ..loop_bridge import Bridge, bridge_for
from ..middleware import serving_app
from . import patches

__all__ = ["UVICORN_PAUSES", "UvicornServer", "uvicorn_config", "uvicorn_engine"]

# Uvicorn sees should_exit on its 0.1 s tick, then pauses 0.1 s before it waits for connections.
UVICORN_PAUSES = 0.2


def uvicorn_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """Uvicorn's :class:`Config` for ``app``: httptools when installed (else h11), the running loop,
    no lifespan (resync_fsm runs it), no logging set-up of its own; no access log and no proxy
    headers of its own (:func:`~resync_fsm.serving.middleware.serving_app` does both, as on Hypercorn);
    the server surface (issue 14) mapped: TLS, keep-alive, backlog, header limit, websocket pings and
    largest message, the Server header (``server.root_path`` is applied in front of the app, the same on
    every engine: :mod:`~resync_fsm.web.root_path`). ``server.h2c`` does not apply (Uvicorn has no HTTP/2)."""
    server, tls = settings.server, settings.tls
    options: dict[str, Any] = {}
    if tls.enabled:
        options.update(ssl_certfile=tls.certfile, ssl_keyfile=tls.keyfile, ssl_ca_certs=tls.ca_certs,
                       ssl_cert_reqs=CLIENT_CERT_MODES[tls.client_cert])
        if tls.ciphers:
            options["ssl_ciphers"] = tls.ciphers
    return uvicorn.Config(
        app,
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        loop="none",
        lifespan="off",
        interface="asgi3",
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=server.graceful_timeout,  # type: ignore[arg-type]  # float seconds
        timeout_keep_alive=server.keep_alive_timeout,  # type: ignore[arg-type]  # float seconds
        backlog=server.backlog,
        h11_max_incomplete_event_size=server.max_header_size,
        ws_ping_interval=server.websocket_ping_interval or None,
        ws_max_size=server.ws_max_size,
        server_header=server.server_header,
        **options,
    )


class _Uvicorn(uvicorn.Server):
    """``uvicorn.Server`` that installs no signal handlers and calls ``listening()`` once it serves."""

    def __init__(self, config: uvicorn.Config, listening: Callable[[], None]) -> None:
        super().__init__(config)
        self._listening = listening

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the runner's signal handlers stay in charge (DESIGN §1)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:  # set once every listener serves
            self._listening()

    def abandon(self) -> None:
        """Cancelled (a forced stop): stop listening and cut what is in flight, as Hypercorn's cancelled
        task group does."""
        for listener in getattr(self, "servers", ()):
            listener.close()
        for task in list(self.server_state.tasks):
            task.cancel()


class UvicornServer(InProcessServer):
    """One Uvicorn serving of ``app`` (see :class:`~resync_fsm.serving.interface.Server`)."""

    def __init__(self, app: HealthWrapper, settings: Settings, on_fault: OnFault, bridge: Bridge) -> None:
        super().__init__(app, settings, on_fault, bridge)
        patches.install(max_header_size=settings.server.max_header_size)
        self.config = uvicorn_config(app, settings)  # its app becomes the served app on the app's loop
        self._server: _Uvicorn | None = None

    @property
    def drain_budget(self) -> float:
        """``graceful_timeout + shutdown_timeout`` plus :data:`UVICORN_PAUSES` seconds."""
        server = self.settings.server
        return server.graceful_timeout + server.shutdown_timeout + UVICORN_PAUSES

    async def serve(self, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        """Bind (raising StartupError naming the address), then serve on the app's loop (see the Server interface)."""
        public, management = self._bind()
        sockets, urls = merged(public, management), urls_of(public)
        try:
            await self._run_on_app_loop(partial(self._serve_on_app_loop, sockets.sockets,
                                              lambda: self.bridge.to_trio(partial(task_status.started, urls))))
        finally:
            close_all(sockets)

    def _stop_now(self) -> None:
        if self._server is not None:
            self._server.should_exit = True

    async def _serve_on_app_loop(self, sockets: list[socket.socket], listening: Callable[[], None]) -> None:
        """On the app's loop: lifespan startup, Uvicorn until ``should_exit``, lifespan shutdown."""
        lifespan = self._lifespan()
        self.config.app = serving_app(self.app, lifespan, self.settings)
        server = self._server = _Uvicorn(self.config, listening)
        server.should_exit = self._stop_requested
        async with anyio.create_task_group() as group:
            try:
                await lifespan.startup(group)
                try:
                    await server.serve(sockets=sockets)
                except SystemExit as exc:  # Uvicorn exits on a failed startup; nothing here may end the process
                    raise StartupError(f"Uvicorn could not start (it asked to exit with {exc.code})",
                                       {"engine": "uvicorn", "exit": exc.code}) from None
                except BaseException:
                    server.abandon()
                    raise
            finally:
                with anyio.CancelScope(shield=True):
                    await lifespan.shutdown()
                group.cancel_scope.cancel()


def uvicorn_engine(app: HealthWrapper, settings: Settings, on_fault: OnFault) -> UvicornServer:
    """The :data:`~resync_fsm.serving.interface.Engine` for Uvicorn on ``settings.server.loop``."""
    return UvicornServer(app, settings, on_fault, bridge_for(settings.server.loop))
