"""The change serving makes to the app's asyncio (or uvloop) loop, on every engine: :meth:`AcceptedConnections.install`.

A stopping process must stop accepting before its engine drains, and serve
every connection it accepted (issue 17 for a retiring worker, issue 24 for a
restart on a handed-over socket, whose listener outlives the process: what it
did not accept stays in the kernel's queue for the next process).
:class:`AcceptedConnections` wraps the loop's ``create_server`` to know what was
accepted; the in-process servers (:mod:`.in_process`) and a worker (:mod:`.workers.child`)
use it before they tell their engine to stop. Hypercorn's side of the same
class (its trio servers, its idle close) is in :mod:`.hypercorn.patches`.

Upstream behaviours worked around (tests/serving/test_patches.py checks
their shape against the running CPython):

- CPython 3.11's asyncio drops a connection accepted just before
  ``Server.close()`` whose transport is made just after (``Server._attach``
  asserts, the error is swallowed): :meth:`AcceptedConnections.stop_accepting`
  takes the listening socket out of the selector instead.
- Both engines close at once a connection whose request they have not read
  (Uvicorn's ``shutdown()`` closes a connection with no request cycle, Hypercorn
  its idle ones): a stop first waits until every accepted connection has been
  heard from (:meth:`AcceptedConnections.heard`), a retiring worker until each
  has closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import trio

from .patching import rebind

__all__ = ["HEARD_GRACE", "AcceptedConnections", "until_closed"]

# Seconds a stop waits for each connection accepted before it to send its request: on loopback it is
# already in the socket; across a network it follows the handshake by one round trip. A connection
# silent that long (a browser's preconnect) is closed by the engine's drain, as an idle one.
HEARD_GRACE = 0.5


class AcceptedConnections:
    """The asyncio (or uvloop) servers the engine creates on this loop, and the connections they
    accepted that are still open (each from its protocol's creation to ``connection_lost``, or to
    its protocol's end for a TLS handshake that failed, which never hears ``connection_lost``).

    Any stopping process stops accepting before its engine's drain (:meth:`close`): a listener
    shared with other workers, or handed over to the next process, outlives it, and a connection
    accepted after the engine's drain began would be lost. It then waits until every connection it
    accepted has been heard from (:meth:`heard`: an in-process stop) or has closed (:meth:`all_closed`:
    a retiring worker, whose service goes on), because both engines close at once a connection whose
    request they have not read yet (or not even made a protocol for): with the request sent, the
    client gets an empty reply or a reset (issue 17: recycling loses no request; issue 24: nor does a
    restart on a handed-over socket). :meth:`install` on the trio guest, before the engine starts.
    """

    def __init__(self) -> None:
        self.servers: list[Any] = []
        self.open: set[object] = set()  # one key per open connection
        self.silent: set[object] = set()  # the open ones that have sent nothing yet
        self._loop = asyncio.get_event_loop()
        self._token = trio.lowlevel.current_trio_token()
        self._changed = trio.Event()

    def install(self) -> None:
        """Wrap this loop's ``create_server``: record each server, count each connection's life."""
        create_server = self._loop.create_server

        async def recording(protocol_factory: Any, *args: Any, **kwargs: Any) -> Any:
            server = await create_server(partial(self._counted, protocol_factory), *args, **kwargs)
            self.servers.append(server)
            return server

        rebind(self._loop, "create_server", recording)

    def stop_accepting(self) -> None:
        """Accept no more connections (the listener stays open in the supervisor and the other workers).

        On asyncio's own loop the listening socket leaves the selector and its server stays open:
        ``Server.close()`` there drops a connection accepted just before it whose transport is made
        just after (CPython 3.11: ``Server._attach`` asserts, the error is swallowed, the client gets a
        reset once the socket is collected). uvloop makes the transport as it accepts: ``close()``.
        """
        for server in self.servers:
            if isinstance(self._loop, asyncio.selector_events.BaseSelectorEventLoop):
                for sock in server.sockets:
                    self._loop.remove_reader(sock.fileno())
            else:
                server.close()

    async def close(self) -> None:
        """:meth:`stop_accepting`, then let the loop run what it has scheduled: every connection accepted
        so far has its protocol, counted. A collection ends the protocols of failed TLS handshakes,
        which asyncio leaves in a cycle (never told ``connection_lost``)."""
        self.stop_accepting()
        done = trio.Event()
        self._loop.call_soon(self._token.run_sync_soon, done.set)
        await done.wait()
        gc.collect()

    async def all_closed(self) -> None:
        """Until no connection accepted here is open (unbounded: bound it)."""
        while self.open:
            await self._changed.wait()

    async def heard(self) -> None:
        """Until every open connection accepted here has sent something (its request: both engines
        then count it as in flight), or closed (unbounded: bound it)."""
        while self.silent:
            await self._changed.wait()

    def _counted(self, protocol_factory: Any) -> Any:
        protocol, key = protocol_factory(), object()
        self.open.add(key)
        self.silent.add(key)
        weakref.finalize(protocol, self._closed, key).atexit = False
        kind = type(protocol)
        lost, alive = kind.connection_lost, weakref.ref(protocol)  # no cycle: the finalizer can run

        def connection_lost(exc: BaseException | None) -> None:
            self._closed(key)
            lost(alive(), exc)

        protocol.connection_lost = connection_lost
        for name in ("data_received", "buffer_updated"):  # a Protocol, a BufferedProtocol
            if hasattr(kind, name):
                setattr(protocol, name, self._hearing(key, getattr(kind, name), alive))
        return protocol

    def _hearing(self, key: object, method: Any, alive: Any) -> Any:
        """``method`` bound to the protocol ``alive()``, marking ``key`` heard on its first call."""

        def received(*args: Any) -> Any:
            if key in self.silent:
                self.silent.discard(key)
                self._changed_soon()
            return method(alive(), *args)

        return received

    def _closed(self, key: object) -> None:
        if key in self.open:
            self.open.discard(key)
            self.silent.discard(key)
            self._changed_soon()

    def _changed_soon(self) -> None:
        with contextlib.suppress(trio.RunFinishedError):
            self._token.run_sync_soon(self._wake)

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()


async def until_closed(listeners: AcceptedConnections, stopped: Callable[[], Awaitable[object]]) -> None:
    """Until every connection ``listeners`` accepted has closed, or ``stopped()`` returns."""
    async with trio.open_nursery() as waiting:
        async def closed() -> None:
            await listeners.all_closed()
            waiting.cancel_scope.cancel()

        waiting.start_soon(closed)
        await stopped()
        waiting.cancel_scope.cancel()
