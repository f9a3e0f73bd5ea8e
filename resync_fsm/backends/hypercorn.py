"""Hypercorn behind the :class:`~resync_fsm.backends.interface.Server` interface, on any loop.

``server.loop = trio`` serves with ``hypercorn.trio`` beside the runner;
``asyncio``/``uvloop`` with ``hypercorn.asyncio`` on the host loop, through an
:class:`~resync_fsm.backends.bridge.AsyncioBridge`. Both get sockets bound
beforehand (:mod:`.binding`) and an app whose lifespan resync_fsm drives itself
(:mod:`.lifespan`); readiness is the moment Hypercorn awaits its shutdown
trigger, which it does only once every listener serves.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import anyio
import trio
from hypercorn.config import Config, Sockets
from hypercorn.utils import wrap_app

from ..settings.model import Settings
from ..settings.surface import CLIENT_CERT_MODES
from ..web.health import HealthWrapper
from .binding import close_all, merged, socket_config, urls_of
from .bridge import Bridge, bridge_for
from .bridged import BridgedServer
from .h2c import H2C_ATTRIBUTE, install, refuse_h2c
from .served import serving_app
from .unix_scope import install as name_unix_sockets

__all__ = ["HypercornServer", "hypercorn_backend", "hypercorn_config"]


install()  # HTTP/2 send buffers released on close: see .h2c
name_unix_sockets()  # scope["server"] on a unix socket, for the management listener: see .unix_scope


def hypercorn_config(settings: Settings) -> Config:
    """Hypercorn's :class:`Config` from the settings; its own access log and proxy handling stay off
    (:func:`~resync_fsm.backends.served.serving_app` does both, for every backend)."""
    server, tls = settings.server, settings.tls
    config = socket_config(settings)
    config.graceful_timeout = server.graceful_timeout
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = server.keep_alive_timeout
    config.h11_max_incomplete_size = server.max_header_size
    config.h2_max_header_list_size = server.max_header_size
    config.websocket_ping_interval = server.websocket_ping_interval or None
    config.include_server_header = server.server_header
    config.root_path = server.root_path
    setattr(config, H2C_ATTRIBUTE, server.h2c)
    if not server.h2c:
        refuse_h2c()
    if tls.enabled:
        config.ca_certs = tls.ca_certs
        config.ciphers = tls.ciphers
        config.verify_mode = CLIENT_CERT_MODES[tls.client_cert]
        config.alpn_protocols = ["h2", "http/1.1"]
    return config


class HypercornServer(BridgedServer):
    """One Hypercorn serving of ``app`` (see :class:`~resync_fsm.backends.interface.Server`)."""

    def __init__(self, app: HealthWrapper, settings: Settings, on_fault: Callable[[BaseException], None],
                 bridge: Bridge) -> None:
        super().__init__(app, settings, on_fault, bridge)
        self.config = hypercorn_config(settings)
        self._stop: anyio.Event | None = None

    @property
    def drain_budget(self) -> float:
        """``graceful_timeout + shutdown_timeout`` seconds (see the Server interface)."""
        server = self.settings.server
        return server.graceful_timeout + server.shutdown_timeout

    async def serve(self, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        """Bind (raising StartupError naming the address), then serve on the app's loop (see the Server interface)."""
        public, management = self._bind(self.config)
        sockets, urls = merged(public, management), urls_of(public)
        try:
            await self.bridge.run(partial(self._serve_on_app_loop, sockets,
                                          lambda: self.bridge.to_trio(partial(task_status.started, urls))))
        finally:
            close_all(sockets)

    def _stop_now(self) -> None:
        if self._stop is not None:
            self._stop.set()

    async def _serve_on_app_loop(self, sockets: Sockets, listening: Callable[[], None]) -> None:
        """On the app's loop: lifespan startup, Hypercorn until the trigger, lifespan shutdown."""
        self._stop = anyio.Event()
        if self._stop_requested:
            self._stop.set()
        stop = self._stop
        lifespan = self._lifespan()

        async def trigger() -> None:
            listening()  # Hypercorn awaits its trigger only once every listener serves
            await stop.wait()

        async with anyio.create_task_group() as group:
            try:
                await lifespan.startup(group)
                await self._worker_serve()(wrap_app(serving_app(self.app, lifespan, self.settings), 0, "asgi"),  # type: ignore[arg-type]
                                           self.config,
                                           sockets=sockets, shutdown_trigger=trigger)
            finally:
                with anyio.CancelScope(shield=True):
                    await lifespan.shutdown()
                group.cancel_scope.cancel()

    def abort(self) -> None:
        """Cut every connection at once (a forced stop): on trio, Hypercorn's shielded writes to a
        client that does not read would otherwise never end (:mod:`.connections`)."""
        if self.bridge.loop_name == "trio":
            from .connections import abort_trio_connections

            abort_trio_connections()

    def _worker_serve(self) -> Callable[..., Awaitable[None]]:
        if self.bridge.loop_name == "trio":
            from hypercorn.trio.run import worker_serve as serve_trio

            from .connections import track_trio_connections

            track_trio_connections()

            return serve_trio
        from hypercorn.asyncio.run import worker_serve as serve_asyncio

        return serve_asyncio


def hypercorn_backend(app: HealthWrapper, settings: Settings, on_fault: Callable[[BaseException], None]) -> Any:
    """The :data:`~resync_fsm.backends.interface.Backend` for Hypercorn on ``settings.server.loop``."""
    return HypercornServer(app, settings, on_fault, bridge_for(settings.server.loop))
