"""The lingering-close patches of Hypercorn (issue 23) against the installed Hypercorn: the shapes they
wrap are still there, and upstream still closes at once (a test fails when Hypercorn changes either)."""

from __future__ import annotations

import inspect
from typing import Any

import hypercorn.asyncio.tcp_server as asyncio_tcp
import hypercorn.trio.tcp_server as trio_tcp
from hypercorn.protocol import ProtocolWrapper
from hypercorn.protocol.h11 import H11Protocol

from resync_fsm.serving.hypercorn import patches


def _original(fn: Any) -> Any:
    return getattr(fn, "__wrapped__", fn)


def test_install_wraps_close_and_stream_send_once() -> None:
    patches.install()
    wrapped = [asyncio_tcp.TCPServer._close, trio_tcp.TCPServer._close, H11Protocol.stream_send]
    assert all(getattr(w, "_resync_fsm", False) for w in wrapped)
    patches.install()
    assert [asyncio_tcp.TCPServer._close, trio_tcp.TCPServer._close, H11Protocol.stream_send] == wrapped
    assert not any(getattr(_original(w), "_resync_fsm", False) for w in wrapped)


def test_upstream_still_closes_at_once_where_the_patch_dups_the_socket() -> None:
    """``_close(self)`` half-closes and closes, reading nothing; the patch finds the socket where it
    looks (the asyncio writer's ``socket``, the trio stream's ``socket``) and the h11 connection under
    ``self.protocol.protocol.connection``."""
    for module, where in ((asyncio_tcp, "self.writer"), (trio_tcp, "self.stream")):
        close = _original(module.TCPServer._close)
        assert list(inspect.signature(close).parameters) == ["self"] and inspect.iscoroutinefunction(close)
        source = inspect.getsource(close)
        assert where in source and ".read(" not in source and "receive_some" not in source
        assert "self.protocol = ProtocolWrapper(" in inspect.getsource(module.TCPServer.run)
    assert "self.protocol: H11Protocol | H2Protocol" in inspect.getsource(ProtocolWrapper.__init__)
    assert "self.connection: h11.Connection" in inspect.getsource(H11Protocol.__init__)
    assert 'get_extra_info("socket")' in inspect.getsource(asyncio_tcp.TCPServer.run)


def test_upstream_still_omits_connection_close_on_an_early_answer() -> None:
    """``stream_send(self, event)`` turns a ``Response`` into an h11 response with the event's headers,
    adding ``connection: close`` only for keep_alive_max_requests."""
    send = _original(H11Protocol.stream_send)
    assert list(inspect.signature(send).parameters) == ["self", "event"]
    source = inspect.getsource(send)
    assert "isinstance(event, Response)" in source and source.count('b"connection"') == 1
    assert "keep_alive_max_requests" in source


def test_h11_still_repairs_what_the_framing_patch_rejects() -> None:
    """h11's reader of an idle client's request takes the receive buffer (whose bytes are ``_data``),
    unfolds obs-fold, allows 20 hex digits of chunk size and answers 501 for a coding it does not
    know; the patch wraps that reader and narrows the chunk-size pattern."""
    import h11
    from h11 import _abnf, _readers
    from h11._receivebuffer import ReceiveBuffer

    patches.install()
    reader = _readers.READERS[h11.CLIENT, h11.IDLE]
    assert getattr(reader, "_resync_fsm", False)
    original = _original(reader)
    assert list(inspect.signature(original).parameters) == ["buf"]
    assert "_obsolete_line_fold" in inspect.getsource(_readers._decode_header_lines)
    assert isinstance(ReceiveBuffer()._data, bytearray)
    assert "{1,20}" in _abnf.chunk_size and b"{1,16}" in _readers.chunk_header_re.pattern
    assert "error_status_hint=501" in inspect.getsource(h11._headers.normalize_and_validate)


def test_the_framing_reader_refuses_with_the_rules_status() -> None:
    import h11

    patches.install()
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx")
    try:
        connection.next_event()
    except h11.RemoteProtocolError as error:
        assert error.error_status_hint == 400
    else:
        raise AssertionError("a duplicate Content-Length was served")
