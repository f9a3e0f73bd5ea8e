"""Each Hypercorn patch (resync_fsm/serving/hypercorn/patches/) against the installed Hypercorn: the
shape it wraps is still there, and the upstream behaviour it works around is still upstream's (a test
fails when Hypercorn changes either, so a patch is never silently undone or left useless)."""

from __future__ import annotations

import inspect
import socket
from typing import Any

import h11
import hypercorn.asyncio.run as _asyncio_run
import hypercorn.asyncio.tcp_server as _asyncio_tcp
import hypercorn.trio.run as _trio_run
import hypercorn.trio.tcp_server as _trio_tcp
import hypercorn.utils
from hypercorn.protocol.h2 import H2Protocol, StreamBuffer
from hypercorn.protocol.h11 import H11Protocol

from resync_fsm.serving.hypercorn import patches

# the modules whose attributes the patches rebind (names they do not export: read as Any)
asyncio_run: Any = _asyncio_run
asyncio_tcp: Any = _asyncio_tcp
trio_tcp: Any = _trio_tcp
trio_run: Any = _trio_run


def _original(fn: Any) -> Any:
    """The upstream function under our wrapper (its ``__wrapped__``), or ``fn`` itself when unwrapped."""
    return getattr(fn, "__wrapped__", fn)


def test_install_applies_every_patch_once() -> None:
    patches.install(h2c=False)
    def every() -> list[Any]:
        return [H2Protocol.handle, asyncio_tcp.parse_socket_addr, trio_tcp.parse_socket_addr, trio_run.TCPServer,
                asyncio_run.TCPServer, trio_run.WorkerContext, asyncio_run.WorkerContext, H11Protocol._check_protocol]

    wrapped = every()
    assert all(getattr(w, "_resync_fsm", False) for w in wrapped)
    patches.install(h2c=False)  # idempotent: nothing wrapped twice
    assert every() == wrapped
    assert not getattr(trio_run.TCPServer.__mro__[1], "_resync_fsm", False)
    assert not getattr(_original(H2Protocol.handle), "_resync_fsm", False)


def test_h2_send_buffers_are_still_left_open_on_close_upstream() -> None:
    """The leak: ``H2Protocol.handle(event)`` handles ``Closed`` without closing its ``stream_buffers``
    (each a ``StreamBuffer`` with an async ``close``); the patch closes them after the original."""
    handle = _original(H2Protocol.handle)
    assert list(inspect.signature(handle).parameters) == ["self", "event"]
    assert inspect.iscoroutinefunction(handle)
    assert "self.stream_buffers" in inspect.getsource(H2Protocol.__init__)
    assert inspect.iscoroutinefunction(StreamBuffer.close)
    source = inspect.getsource(handle)
    assert "isinstance(event, Closed)" in source and "stream_buffers" not in source  # still leaking upstream


def test_hypercorn_still_names_no_unix_socket() -> None:
    """Upstream, ``parse_socket_addr`` gives ``None`` for a unix socket path; both TCP servers call it by
    that name from their module (what the patch rebinds)."""
    parse: Any = hypercorn.utils.parse_socket_addr
    assert parse(socket.AF_UNIX, "/run/app.sock") is None
    for module in (asyncio_tcp, trio_tcp):
        assert "parse_socket_addr(" in inspect.getsource(module)
        assert list(inspect.signature(_original(module.parse_socket_addr)).parameters) == ["family", "address"]
    assert asyncio_tcp.parse_socket_addr(socket.AF_UNIX, "/run/app.sock") == ("/run/app.sock", None)
    assert asyncio_tcp.parse_socket_addr(socket.AF_UNIX, "") is None  # an unnamed peer stays None
    assert asyncio_tcp.parse_socket_addr(socket.AF_INET, ("127.0.0.1", 80)) == ("127.0.0.1", 80)


def test_hypercorn_on_trio_still_shields_its_writes() -> None:
    """Upstream, the trio ``TCPServer`` shields ``send_all`` (why a forced stop must close sockets), keeps
    its stream as ``.stream`` and is looked up by name in ``hypercorn.trio.run`` (what the patch subclasses)."""
    base = trio_run.TCPServer.__mro__[1] if getattr(trio_run.TCPServer, "_resync_fsm", False) else trio_run.TCPServer
    assert base is trio_tcp.TCPServer
    assert "shield = True" in inspect.getsource(trio_tcp.TCPServer.protocol_send)
    assert "self.stream = stream" in inspect.getsource(trio_tcp.TCPServer.__init__)
    assert "TCPServer," in inspect.getsource(trio_run.worker_serve)  # handed by name to its listeners


def test_hypercorn_still_switches_to_http2_on_upgrade_h2c() -> None:
    """Upstream, ``H11Protocol._check_protocol(event)`` switches on ``Upgrade: h2c`` with no option to
    refuse it; the patch hands it an ``h11.Request`` rebuilt without that value."""
    check = _original(H11Protocol._check_protocol)
    assert list(inspect.signature(check).parameters) == ["self", "event"]
    assert inspect.iscoroutinefunction(check)
    assert "h2c" in inspect.getsource(check)
    request = h11.Request(method="GET", target="/", headers=[(b"host", b"x")], http_version="1.1")
    assert (request.method, request.target, request.http_version) == (b"GET", b"/", b"1.1")


def test_a_stop_still_closes_every_idle_connection_at_terminated_upstream() -> None:
    """Upstream (why ``terminated`` is gated, issue 24): both runs set ``context.terminated`` at a stop
    (asyncio: before ``Server.close()``), an idle connection's ``_idle_timeout`` closes it once
    ``terminated`` is set, a new connection starts idle, and HTTP/1.1 says ``Updated(idle=False)`` when
    it has read a request (what marks a tracked connection read); ``WorkerContext`` and ``TCPServer``
    are looked up by name in each run module."""
    for run, tcp in ((asyncio_run, asyncio_tcp), (trio_run, trio_tcp)):
        serve = inspect.getsource(run.worker_serve)
        assert "await context.terminated.set()" in serve and "WorkerContext(" in serve
        assert "context.terminated.wait()" in inspect.getsource(tcp.TCPServer._idle_timeout)
        assert "self.idle_task.restart" in inspect.getsource(tcp.TCPServer.run)
        assert "self.context = context" in inspect.getsource(tcp.TCPServer.__init__)
    asyncio_serve = inspect.getsource(asyncio_run.worker_serve)
    assert asyncio_serve.index("terminated.set()") < asyncio_serve.index("server.close()")
    assert "await self.send(Updated(idle=False))" in inspect.getsource(H11Protocol._handle_events)


def test_a_cancelled_asyncio_serve_still_waits_for_its_connections_upstream() -> None:
    """Upstream (why a forced stop cuts Hypercorn's asyncio connections itself, issue 24 item 6): a cancelled
    ``worker_serve`` waits for its server tasks (nothing cancels them); a connection's ``TCPServer`` is made in
    its own task and keeps its ``writer``; CPython 3.11's ``start_server`` callback calls ``task.exception()``,
    which raises (and is logged with a traceback) for a task that ended cancelled."""
    import asyncio.streams
    import sys

    serve = inspect.getsource(asyncio_run.worker_serve)
    assert "asyncio.wait_for(gathered_server_tasks" in serve and "await TCPServer(" in serve
    assert "self.writer = writer" in inspect.getsource(asyncio_tcp.TCPServer.__init__)
    if sys.version_info[:2] == (3, 11):
        made = inspect.getsource(asyncio.streams.StreamReaderProtocol.connection_made)
        assert "exc = task.exception()" in made and "task.cancelled()" not in made


def test_hypercorn_on_trio_still_closes_without_its_send_lock() -> None:
    """Upstream, the trio ``TCPServer`` sends under ``send_lock`` but handles ``Closed`` without it (so a close
    can land under a send in progress: BusyResourceError), and h11 names the states an answer goes through
    (what the close patch waits on)."""
    source = inspect.getsource(_trio_tcp.TCPServer.protocol_send)
    closed = source.split("isinstance(event, Closed)")[1].split("elif")[0]
    assert "async with self.send_lock" in source.split("isinstance(event, Closed)")[0]
    assert "send_lock" not in closed and "self._close()" in closed
    assert "self.send_lock = trio.Lock()" in inspect.getsource(_trio_tcp.TCPServer.__init__)
    assert h11.SEND_RESPONSE is not h11.SEND_BODY  # both still named by h11
