"""Hypercorn behind the :class:`~resync_fsm.serving.interface.Server` interface, on any loop.

``server.loop = trio`` serves with ``hypercorn.trio`` beside the runner;
``asyncio``/``uvloop`` with ``hypercorn.asyncio`` on the host loop, through an
:class:`~resync_fsm.serving.loop_bridge.AsyncioBridge`. Both get sockets bound
beforehand (:mod:`~resync_fsm.serving.binding`) and an app whose lifespan resync_fsm
drives itself (:mod:`~resync_fsm.serving.lifespan`); readiness is the moment Hypercorn
awaits its shutdown trigger, which it does only once every listener serves. What is
changed of Hypercorn itself is in :mod:`.patches`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial

import anyio
import trio
from hypercorn.config import Config, Sockets
from hypercorn.utils import wrap_app

from ...settings.model import Settings
from ...settings.parsers_system import CLIENT_CERT_MODES
from ...web.health import HealthWrapper
from ..binding import Listeners, close_all, merged, urls_of
from ..in_process import InProcessServer
from ..interface import OnFault
from ..loop_bridge import Bridge, bridge_for
from ..middleware import serving_app
from . import patches

__all__ = ["HypercornServer", "hypercorn_config", "hypercorn_engine"]


def hypercorn_config(settings: Settings) -> Config:
    """Hypercorn's :class:`Config` from the settings (the listeners are bound beforehand, by
    :mod:`~resync_fsm.serving.binding`); its own access log and proxy handling stay off
    (:func:`~resync_fsm.serving.middleware.serving_app` does both, for every engine). Applies
    :func:`.patches.install` (the ``Upgrade: h2c`` refusal only when ``server.h2c`` is false)."""
    server, tls = settings.server, settings.tls
    patches.install(h2c=server.h2c, max_header_size=server.max_header_size)
    config = Config()
    config.graceful_timeout = server.graceful_timeout
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = server.keep_alive_timeout
    config.h11_max_incomplete_size = server.max_header_size
    config.h2_max_header_list_size = server.max_header_size
    config.websocket_ping_interval = server.websocket_ping_interval or None
    config.websocket_max_message_size = server.ws_max_size
    config.include_server_header = server.server_header
    setattr(config, patches.H2C_ATTRIBUTE, server.h2c)
    if tls.enabled:
        config.certfile, config.keyfile = tls.certfile, tls.keyfile
        config.ca_certs = tls.ca_certs
        config.ciphers = tls.ciphers
        config.verify_mode = CLIENT_CERT_MODES[tls.client_cert]
        config.alpn_protocols = ["h2", "http/1.1"]
    return config


class HypercornServer(InProcessServer):
    """One Hypercorn serving of ``app`` (see :class:`~resync_fsm.serving.interface.Server`); an
    :class:`~resync_fsm.serving.interface.Abortable` one."""

    def __init__(self, app: HealthWrapper, settings: Settings, on_fault: OnFault, bridge: Bridge) -> None:
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
        public, management = self._bind()
        sockets, urls = merged(public, management), urls_of(public)
        try:
            await self._run_on_app_loop(partial(self._serve_on_app_loop, sockets,
                                              lambda: self.bridge.to_trio(partial(task_status.started, urls))))
        finally:
            close_all(sockets)

    def _stop_now(self) -> None:
        if self._stop is not None:
            self._stop.set()

    async def _serve_on_app_loop(self, sockets: Listeners, listening: Callable[[], None]) -> None:
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
                                           self.config, sockets=Sockets(sockets.secure, sockets.insecure, []),
                                           shutdown_trigger=trigger)
            finally:
                with anyio.CancelScope(shield=True):
                    await lifespan.shutdown()
                group.cancel_scope.cancel()

    def abort(self) -> None:
        """Cut every connection at once (a forced stop): on trio, Hypercorn's shielded writes to a
        client that does not read would otherwise never end (:func:`.patches.abort_trio_connections`);
        on asyncio/uvloop its cancelled serve would wait for them (:func:`.patches.abort_asyncio_connections`)."""
        if self.bridge.loop_name == "trio":
            patches.abort_trio_connections()
        else:
            patches.abort_asyncio_connections()

    def _worker_serve(self) -> Callable[..., Awaitable[None]]:
        if self.bridge.loop_name == "trio":
            from hypercorn.trio.run import worker_serve as serve_trio

            return serve_trio
        from hypercorn.asyncio.run import worker_serve as serve_asyncio

        return serve_asyncio


def hypercorn_engine(app: HealthWrapper, settings: Settings, on_fault: OnFault) -> HypercornServer:
    """The :data:`~resync_fsm.serving.interface.Engine` for Hypercorn on ``settings.server.loop``."""
    return HypercornServer(app, settings, on_fault, bridge_for(settings.server.loop))
