"""What every in-process engine's server shares: binding, the shutdown request carried to the app's loop,
and the app's lifespan.

An engine's server subclasses :class:`InProcessServer`, runs its app-loop side through
:meth:`InProcessServer._run_on_app_loop` and provides ``_stop_now()``: its own server's
shutdown trigger, called on the app's loop (Hypercorn: its trigger event; Uvicorn:
``should_exit``). A stop first stops accepting and waits (at most
:data:`~.patches.HEARD_GRACE`) until every connection accepted has sent its request
(:mod:`.patches`, issue 24), so that the engine's drain drops none.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import trio

from ..settings.model import Settings
from ..web.health import HealthWrapper
from .binding import Listeners, bind_listeners, local_addresses, urls_of
from .lifespan import Lifespan
from .loop_bridge import Bridge
from .patches import HEARD_GRACE, AcceptedConnections

__all__ = ["InProcessServer"]


class InProcessServer:
    """The common half of a :class:`~resync_fsm.serving.interface.Server` run through a bridge."""

    def __init__(self, app: HealthWrapper, settings: Settings, on_fault: Callable[[BaseException], None],
                 bridge: Bridge) -> None:
        self.app, self.settings, self.on_fault, self.bridge = app, settings, on_fault, bridge
        self._stop_requested = False
        self._stopping = trio.Event()
        self.accepted: AcceptedConnections | None = None  # on asyncio/uvloop, once serving

    def shutdown(self) -> None:
        """Stop accepting, let every accepted connection send its request (at most
        :data:`~.patches.HEARD_GRACE` s), then close the listeners and let in-flight work finish
        (from the trio side; returns at once, the rest follows in :meth:`serve`)."""
        self._stop_requested = True
        self._stopping.set()

    async def _run_on_app_loop(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        """``fn()`` on the app's loop (the engine serving), with its stop carried there when
        :meth:`shutdown` asks. On asyncio/uvloop, :class:`~.patches.AcceptedConnections` is installed
        first (before the engine makes its servers)."""
        if self.bridge.loop_name != "trio":
            self.accepted = AcceptedConnections()
            self.accepted.install()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._stop_when_asked)
            try:
                return await self.bridge.run(fn)
            finally:
                nursery.cancel_scope.cancel()

    async def _stop_when_asked(self) -> None:
        await self._stopping.wait()
        if self.accepted is not None:  # on trio, Hypercorn's gate does it (.hypercorn.patches)
            await self.accepted.close()
            with trio.move_on_after(HEARD_GRACE):
                await self.accepted.heard()
        self.bridge.call(self._set_stop)

    def _bind(self) -> tuple[Listeners, Listeners]:
        """Bind the public and management listeners (:func:`~.binding.bind_listeners`) and, before anything
        is served, tell the app (the health wrapper's ``management_listening(addresses, urls)``) which local
        addresses are management ones (docs/operations.md "Exposure")."""
        public, management = bind_listeners(self.settings)
        self.app.management_listening(local_addresses(management), urls_of(management))
        return public, management

    def _set_stop(self) -> None:
        self._stop_requested = True
        self.app.listener_closing()  # websockets get 1001
        self._stop_now()

    def _stop_now(self) -> None:
        """On the app's loop: trigger the server's own shutdown (a no-op before it runs)."""
        raise NotImplementedError

    def _lifespan(self) -> Lifespan:
        """The app's lifespan (made on the app's loop, run on the app itself, not through the health
        wrapper, which answers the server's own); a crash while serving is reported to the runner."""

        def crashed(error: BaseException) -> None:
            self.bridge.to_trio(partial(self.on_fault, error))

        server = self.settings.server
        return Lifespan(self.app.app, startup_timeout=server.startup_timeout or math.inf,
                        shutdown_timeout=server.shutdown_timeout, on_crash=crashed, mode=server.lifespan)
