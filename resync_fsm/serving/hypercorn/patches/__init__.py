"""Every change resync_fsm makes to Hypercorn's classes and functions, applied by one call: :func:`install`.

Each patch wraps one upstream attribute, process-wide, once (idempotent: a
wrapped attribute carries ``_resync_fsm``), and names the upstream behaviour it
works around. tests/serving/hypercorn/test_patches.py checks the shape each
patch relies on against the installed Hypercorn, so an upstream change fails a
test instead of silently undoing a patch.

- ``H2Protocol.handle``: HTTP/2 send buffers released on close (a descriptor leak).
- ``parse_socket_addr`` (asyncio and trio TCP servers): ``scope["server"]`` on a unix socket.
- ``TCPServer`` (asyncio and trio runs): connections tracked, so a forced stop can cut them (trio) and a
  stop waits for the requests they have not read yet.
- ``WorkerContext`` (asyncio and trio runs): ``terminated`` (idle connections close) waits until every
  connection has read its first request (issue 24: a restart on a handed-over socket loses none).
- ``H11Protocol._check_protocol``: ``Upgrade: h2c`` refused, only once a server has ``h2c = false``.
- HTTP/1 request framing and closing (:mod:`.http1`): ``Connection: close`` on an answer sent
  before its request was read, a lingering close instead of a reset, the RFC 9112 framing rules.
"""

from __future__ import annotations

import asyncio
import socket
import weakref
from typing import Any

import anyio
import anyio.lowlevel
import trio

from ....logs import get_logger
from ...patches import HEARD_GRACE
from ...patching import rebind, replace
from . import h2
from .h2 import H2C_ATTRIBUTE

__all__ = ["H2C_ATTRIBUTE", "abort_asyncio_connections", "abort_trio_connections", "install", "until_requests_read"]


log = get_logger("resync_fsm.serving")

_open: weakref.WeakSet[Any] = weakref.WeakSet()  # hypercorn connections still open (both runs)
UNREAD = "resync_fsm_unread"  # on a tracked TCPServer: true until its protocol has read a request
ABORTED = "resync_fsm_aborted"  # on a tracked asyncio TCPServer: cut by abort_asyncio_connections()


def install(*, h2c: bool = True, max_header_size: int = 16384) -> None:
    """Apply every patch (idempotent); with ``h2c=False`` also the ``Upgrade: h2c`` refusal, which
    then sits on every HTTP/1.1 request's path (but acts only for a Config whose :data:`H2C_ATTRIBUTE`
    is false). ``max_header_size``: bytes of an HTTP/1.1 request head accepted (:mod:`.http1`)."""
    from . import http1

    h2.release_buffers_on_close()
    _name_unix_sockets()
    _track_connections()
    _gate_termination()
    http1.install(max_header_size=max_header_size)
    if not h2c:
        h2.refuse_h2c()


def _name_unix_sockets() -> None:
    """A request on a unix socket gets ``scope["server"] = (path, None)``, as on Uvicorn.

    Upstream: Hypercorn leaves ``server`` (and ``client``) ``None`` on a unix socket; the health
    wrapper tells a management listener from a public one by ``scope["server"]``
    (docs/operations.md "Exposure"). The wrapped ``parse_socket_addr`` (where Hypercorn's asyncio
    and trio TCP servers call it) turns an ``AF_UNIX`` address that is a non-empty path into
    ``(path, None)``; an unnamed peer (every ordinary client) stays ``None``.
    """
    import hypercorn.asyncio.tcp_server as on_asyncio
    import hypercorn.trio.tcp_server as on_trio

    for module in (on_asyncio, on_trio):
        original: Any = module.parse_socket_addr
        if getattr(original, "_resync_fsm", False):
            continue

        def parse_socket_addr(family: int, address: Any, original: Any = original) -> Any:
            if family == socket.AF_UNIX and isinstance(address, str) and address:
                return (address, None)
            return original(family, address)

        replace(module, "parse_socket_addr", parse_socket_addr, original)
def _track_connections() -> None:
    """Make Hypercorn's runs (asyncio and trio) record every connection they serve, and whether its
    protocol has read a request yet (``Updated``, idle or not, is the protocol's first word after one).

    Upstream: Hypercorn's trio ``TCPServer.protocol_send`` shields ``send_all`` from cancellation, so a
    client that never reads a large response blocks its connection task forever, and with it the
    nursery, the runner and the process (issue "every stop bounded": :func:`abort_trio_connections`);
    and neither run tells a connection that has read nothing yet from an idle one
    (:func:`until_requests_read`).
    """
    from hypercorn.asyncio import run as on_asyncio
    from hypercorn.events import Closed, Updated
    from hypercorn.trio import run as on_trio

    for module in (on_asyncio, on_trio):
        base = module.TCPServer
        if getattr(base, "_resync_fsm", False):
            continue

        class TrackedTCPServer(base):  # type: ignore[misc,valid-type]
            _resync_fsm = True

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                setattr(self, UNREAD, True)
                if hasattr(self, "writer"):  # asyncio: made in the connection's own task
                    self.resync_fsm_task = asyncio.current_task()
                _open.add(self)

            async def run(self) -> None:
                try:
                    await super().run()
                except asyncio.CancelledError:
                    if not getattr(self, ABORTED, False):
                        raise  # aborted: ends quietly (CPython 3.11's start_server logs a cancelled one)
                except Exception as exc:  # one connection's failure is that connection's: never the server's
                    log.warning("connection_failed", error=f"{type(exc).__name__}: {exc}",
                                action="closing this connection; the server goes on")
                    with anyio.CancelScope(shield=True):
                        await _close_quietly(self)

            async def protocol_send(self, event: Any) -> None:
                if isinstance(event, Updated):
                    setattr(self, UNREAD, False)
                elif isinstance(event, Closed) and not _owns(self):
                    # trio: a close waits for the answer under way to be sent whole (a pipelined request
                    # after a Connection: close answer makes h11 close mid-answer), then for the send in
                    # progress (send_lock): Hypercorn alone half-closes under the sending task, which
                    # fails (BusyResourceError) and takes the server with it (issue 23 review)
                    await _answer_sent(self)
                    async with self.send_lock:
                        await self._close()
                await super().protocol_send(event)

        rebind(module, "TCPServer", TrackedTCPServer)


def _owns(server: Any) -> bool:
    """True when there is no trio send lock to wait for (asyncio's writes need none), or this task holds it
    already (a close from inside a send that failed)."""
    lock = getattr(server, "send_lock", None)
    if not isinstance(lock, trio.Lock):
        return True
    return lock.statistics().owner is trio.lowlevel.current_task()


ANSWER_GRACE = 2.0  # seconds a close waits for the answer under way to be sent whole (trio)


async def _answer_sent(server: Any) -> None:
    """Until the HTTP/1.1 answer ``server`` is sending is complete (h11's state past ``SEND_BODY``), at most
    :data:`ANSWER_GRACE` seconds; at once for HTTP/2 or when no answer is under way."""
    import h11

    connection = getattr(getattr(getattr(server, "protocol", None), "protocol", None), "connection", None)
    if not isinstance(connection, h11.Connection):
        return
    with trio.move_on_after(ANSWER_GRACE):
        while connection.our_state in (h11.SEND_RESPONSE, h11.SEND_BODY):  # noqa: ASYNC110
            await trio.sleep(0.005)  # h11 has no event to wait on; bounded


async def _close_quietly(server: Any) -> None:
    """Close ``server``'s connection after its failure, ignoring what closing a broken stream raises."""
    try:
        await server._close()
    except Exception:  # noqa: S110 - already broken: nothing more to do with it
        pass


async def until_requests_read(context: object) -> None:
    """Until every open connection of ``context`` (a Hypercorn ``WorkerContext``) has read a request, at
    most :data:`~resync_fsm.serving.patches.HEARD_GRACE` seconds; on asyncio or trio (anyio). Two
    checkpoints first: a connection just accepted has its task (and its ``TCPServer``) started."""
    await anyio.lowlevel.checkpoint()
    await anyio.lowlevel.checkpoint()
    with anyio.move_on_after(HEARD_GRACE):
        while any(c.context is context and getattr(c, UNREAD) for c in list(_open)):  # noqa: ASYNC110
            await anyio.sleep(0.005)  # Hypercorn has no event to wait on; bounded


def _gate_termination() -> None:
    """Hypercorn's ``terminated`` is set only once every connection has read its first request.

    Upstream: at a stop Hypercorn's runs set ``WorkerContext.terminated`` as soon as their listeners
    stop accepting (trio: ``serve_listeners`` cancelled; asyncio: just before ``Server.close()``), and
    every connection idle then closes at once (``TCPServer._idle_timeout``), one just accepted whose
    request sits unread in its socket included: the client gets an empty reply or a reset (issue 24:
    a restart on a handed-over socket). The wrapped ``terminated.set()`` first awaits
    :func:`until_requests_read`; a cancelled wait still sets it.
    """
    from hypercorn.asyncio import run as on_asyncio
    from hypercorn.trio import run as on_trio

    for module in (on_asyncio, on_trio):
        base = module.WorkerContext
        if getattr(base, "_resync_fsm", False):
            continue

        class GatedWorkerContext(base):  # type: ignore[misc,valid-type]
            _resync_fsm = True

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                terminated, context = self.terminated, self
                set_now = terminated.set

                async def set_when_read() -> None:
                    try:
                        await until_requests_read(context)
                    finally:
                        await set_now()

                terminated.set = set_when_read

        rebind(module, "WorkerContext", GatedWorkerContext)


def abort_trio_connections() -> int:
    """Close the socket of every open ``hypercorn.trio`` connection, which wakes a blocked send with
    ``ClosedResourceError`` (trio's ``notify_closing``); returns how many were closed."""
    closed = 0
    for connection in list(_open):
        stream = getattr(connection, "stream", None)
        sock = getattr(getattr(stream, "transport_stream", stream), "socket", None)
        if sock is not None and sock.fileno() != -1:
            sock.close()
            closed += 1
    return closed


def abort_asyncio_connections() -> int:
    """Cut every open ``hypercorn.asyncio`` connection (transport aborted, task and app tasks cancelled,
    ending quietly); returns how many. Upstream: a cancelled ``worker_serve`` still waits for its
    connections' tasks, which nothing cancels; CPython 3.11's ``start_server`` logs a traceback for a
    connection task that ends cancelled (its callback's ``task.exception()`` raises)."""
    cut = 0
    for connection in list(_open):
        task = getattr(connection, "resync_fsm_task", None)
        if task is not None and not task.done():
            setattr(connection, ABORTED, True)
            connection.writer.transport.abort()
            task.cancel()
            cut += 1
    return cut
