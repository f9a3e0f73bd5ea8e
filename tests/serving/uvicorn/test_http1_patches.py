"""The lingering-close patch of Uvicorn (issue 23) against the installed Uvicorn: the shapes it wraps are
still there, and upstream still closes a ``Connection: close`` answer with ``transport.close()``."""

from __future__ import annotations

import inspect

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from resync_fsm.serving.uvicorn import patches


def test_install_wraps_send_and_connection_lost_once() -> None:
    patches.install()
    wrapped = [RequestResponseCycle.send, HttpToolsProtocol.connection_lost]
    assert all(getattr(w, "_resync_fsm", False) for w in wrapped)
    patches.install()
    assert [RequestResponseCycle.send, HttpToolsProtocol.connection_lost] == wrapped


def test_upstream_still_closes_at_once_and_keeps_alive_on_an_early_answer() -> None:
    """The cycle's ``send(self, message)`` reads ``keep_alive`` for the ``connection: close`` header and
    the close after the answer, ``more_body`` and ``transport`` are the cycle's, and the protocol's
    ``connection_lost(self, exc)`` is where its ``cycle`` ends."""
    send = inspect.unwrap(RequestResponseCycle.send)
    assert list(inspect.signature(send).parameters) == ["self", "message"]
    source = inspect.getsource(send)
    assert "if not self.keep_alive and not has_connection_close:" in source
    assert "if not self.keep_alive:\n                    self.transport.close()" in source
    init = inspect.getsource(RequestResponseCycle.__init__)
    assert "self.more_body = True" in init and "self.transport = transport" in init
    assert "self.cycle.more_body = False" in inspect.getsource(HttpToolsProtocol.on_message_complete)
    lost = inspect.unwrap(HttpToolsProtocol.connection_lost)
    assert list(inspect.signature(lost).parameters) == ["self", "exc"]
    assert "self.cycle" in inspect.getsource(lost)


def test_uvicorn_still_answers_a_parser_error_with_send_400_response() -> None:
    """``data_received(self, data)`` feeds the parser and answers its errors (a callback's exception
    among them) with ``send_400_response(msg)``; ``on_headers_complete`` reads ``self.url`` and
    ``self.headers``, and starts the app: the patch checks the head before it."""
    patches.install()
    for name in ("data_received", "on_headers_complete", "send_400_response"):
        assert getattr(getattr(HttpToolsProtocol, name), "_resync_fsm", False)
    received = inspect.getsource(inspect.unwrap(HttpToolsProtocol.data_received))
    assert "except httptools.HttpParserError:" in received and "self.send_400_response(msg)" in received
    assert list(inspect.signature(inspect.unwrap(HttpToolsProtocol.send_400_response)).parameters) == ["self", "msg"]
    complete = inspect.getsource(inspect.unwrap(HttpToolsProtocol.on_headers_complete))
    assert "self.url" in complete and "self._start_asgi_task(self.cycle, app)" in complete
    assert "self.headers.append((name, value))" in inspect.getsource(HttpToolsProtocol.on_header)
