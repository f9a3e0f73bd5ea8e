"""Every change a worker process makes to its asyncio loop, applied by one call: :meth:`AcceptedConnections.install`.

The worker (:mod:`.child`) serves on a listening socket it shares with the
supervisor and the other workers. Stopping it must not drop a connection it
already took from that socket: :class:`AcceptedConnections` wraps the loop's
``create_server`` to know what it accepted.

Upstream behaviours worked around (tests/serving/workers/test_patches.py checks
their shape against the running CPython):

- CPython 3.11's asyncio drops a connection accepted just before
  ``Server.close()`` whose transport is made just after (``Server._attach``
  asserts, the error is swallowed): :meth:`AcceptedConnections.stop_accepting`
  takes the listening socket out of the selector instead.
- Both engines close at once a connection whose request they have not read:
  a retiring worker waits for every connection it accepted to close first.
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

__all__ = ["AcceptedConnections", "until_closed"]


class AcceptedConnections:
    """The asyncio (or uvloop) servers the engine creates on this loop, and the connections they
    accepted that are still open (each from its protocol's creation to ``connection_lost``, or to
    its protocol's end for a TLS handshake that failed, which never hears ``connection_lost``).

    A draining worker closes the servers before its engine's drain: the listener is shared with the
    other workers, so a connection it accepted after the engine's drain began would be lost. A
    retiring worker (a recycle, a reload: the service goes on) then waits for every connection it
    accepted to close before the engine's drain, because both engines close at once a connection
    whose request they have not read yet (or not even made a protocol for): with the request sent,
    the client gets a reset (issue 17: recycling loses no request). :meth:`install` on the trio
    guest, before the engine starts.
    """

    def __init__(self) -> None:
        self.servers: list[Any] = []
        self.open: set[object] = set()  # one key per open connection
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

        self._loop.create_server = recording  # type: ignore[method-assign]

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

    def _counted(self, protocol_factory: Any) -> Any:
        protocol, key = protocol_factory(), object()
        self.open.add(key)
        weakref.finalize(protocol, self._closed, key).atexit = False
        lost, alive = type(protocol).connection_lost, weakref.ref(protocol)  # no cycle: the finalizer can run

        def connection_lost(exc: BaseException | None) -> None:
            self._closed(key)
            lost(alive(), exc)

        protocol.connection_lost = connection_lost
        return protocol

    def _closed(self, key: object) -> None:
        if key in self.open:
            self.open.discard(key)
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
