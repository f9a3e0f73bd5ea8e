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
from ..web.asgi import ASGIApp
from .binding import bind_all, close_all, urls_of
from .bridge import Bridge, bridge_for
from .lifespan import serving_app
from .served import BridgedServer

__all__ = ["HypercornServer", "hypercorn_backend", "hypercorn_config"]


def hypercorn_config(settings: Settings) -> Config:
    """Hypercorn's :class:`Config` from the settings (binds, graceful timeout; its own logs off)."""
    server = settings.server
    config = Config()
    config.bind = list(server.bind)
    config.graceful_timeout = server.graceful_timeout
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    return config


class HypercornServer(BridgedServer):
    """One Hypercorn serving of ``app`` (see :class:`~resync_fsm.backends.interface.Server`)."""

    def __init__(self, app: ASGIApp, settings: Settings, on_fault: Callable[[BaseException], None],
                 bridge: Bridge) -> None:
        super().__init__(app, settings, on_fault, bridge)
        self.config = hypercorn_config(settings)
        self._stop: anyio.Event | None = None

    @property
    def drain_budget(self) -> float:
        server = self.settings.server
        return server.graceful_timeout + server.shutdown_timeout

    async def serve(self, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        sockets = bind_all(self.config, self.settings.server.bind)
        urls = urls_of(sockets)
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
                await self._worker_serve()(wrap_app(serving_app(self.app, lifespan), 0, "asgi"),  # type: ignore[arg-type]
                                           self.config,
                                           sockets=sockets, shutdown_trigger=trigger)
            finally:
                with anyio.CancelScope(shield=True):
                    await lifespan.shutdown()
                group.cancel_scope.cancel()

    def _worker_serve(self) -> Callable[..., Awaitable[None]]:
        if self.bridge.loop_name == "trio":
            from hypercorn.trio.run import worker_serve as serve_trio

            return serve_trio
        from hypercorn.asyncio.run import worker_serve as serve_asyncio

        return serve_asyncio


def hypercorn_backend(app: ASGIApp, settings: Settings, on_fault: Callable[[BaseException], None]) -> Any:
    """The :data:`~resync_fsm.backends.interface.Backend` for Hypercorn on ``settings.server.loop``."""
    return HypercornServer(app, settings, on_fault, bridge_for(settings.server.loop))
