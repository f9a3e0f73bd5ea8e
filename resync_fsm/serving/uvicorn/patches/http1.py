"""Uvicorn's HTTP/1 connections (httptools) read and closed as RFC 9112 asks (issues 23, 24, 25), applied
by :func:`install` from :func:`.patches.install`; each patch wraps one upstream attribute once (marked
``_resync_fsm``) and names the upstream behaviour it works around; tests/serving/uvicorn/
test_http1_patches.py checks each shape against the installed Uvicorn.

- ``RequestResponseCycle.send`` and ``HttpToolsProtocol.connection_lost``: a response sent before its
  request was completely received carries ``Connection: close``, and its connection closes by lingering
  (:mod:`~resync_fsm.serving.lingering`) instead of being reset.
- ``HttpToolsProtocol.data_received`` and ``on_headers_complete``: the request head bounded by
  ``server.max_header_size`` (431) and its ``Host`` checked (400), as Hypercorn (h11) answers them.
"""

from __future__ import annotations

import os
from typing import Any

from ...http1 import HOST
from ...lingering import LINGERER, dup_socket
from ...patching import replace

__all__ = ["install"]

LINGER_FD = "_resync_fsm_linger_fd"  # on a cycle or a protocol: the duplicate the lingerer gets
HEAD = "_resync_fsm_head"  # on a protocol: bytes received of a request head not yet complete (at most)
REFUSAL = "_resync_fsm_refusal"  # on a protocol: (status, reason) of a head refused in a parser callback
_LIMIT = [16384]  # bytes of a request head accepted (server.max_header_size), set by install


def install(*, max_header_size: int) -> None:
    """Apply every patch of this module (idempotent); ``max_header_size`` bytes of a request head."""
    _LIMIT[0] = max_header_size
    _linger_after_early_answers()
    _bound_heads_and_check_host()


def _linger_after_early_answers() -> None:
    """Close a connection answered before its request's body was completely received by lingering
    (RFC 9112 §9.6; nginx's ``lingering_close``), with ``Connection: close`` on the answer.

    Upstream: Uvicorn (httptools) keeps such a connection open and discards the rest of the body for as
    long as the client sends it, with no bound; and when it closes one (its own 500 and every
    ``Connection: close`` answer), ``transport.close()`` resets it while the body is still arriving: the
    client still sending gets ``EPIPE`` instead of the answer (issue 23; tests/e2e/test_lingering.py).
    The wrapped ``send`` sets the cycle's ``keep_alive`` false when the response starts with the body
    incomplete (Uvicorn then sends ``Connection: close`` and closes after it) and, before the closing
    send, keeps a duplicate of the socket; the wrapped ``connection_lost`` hands it to the lingerer.
    """
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

    original_send: Any = RequestResponseCycle.send
    if getattr(original_send, "_resync_fsm", False):
        return
    setattr(RequestResponseCycle, LINGER_FD, None)
    setattr(HttpToolsProtocol, LINGER_FD, None)

    def send(self: Any, message: Any) -> Any:
        # a plain function returning upstream's coroutine: no second coroutine on every send
        if self.more_body:  # the request's body is not completely received
            if not self.response_started:
                self.keep_alive = False
            if not self.keep_alive and not message.get("more_body", False) \
                    and message["type"] == "http.response.body" and getattr(self, LINGER_FD) is None:
                setattr(self, LINGER_FD, dup_socket(self.transport.get_extra_info("socket")))
        return original_send(self, message)

    original_lost: Any = HttpToolsProtocol.connection_lost

    def connection_lost(self: Any, exc: Exception | None) -> None:
        cycle = self.cycle
        try:
            original_lost(self, exc)
        finally:
            holder = self if getattr(self, LINGER_FD, None) is not None else cycle
            fd = getattr(holder, LINGER_FD, None)
            if fd is not None:
                setattr(holder, LINGER_FD, None)
                if exc is None:
                    LINGERER.take(fd)
                else:  # the client reset or vanished: nothing to linger for
                    os.close(fd)

    replace(RequestResponseCycle, "send", send, original_send)
    replace(HttpToolsProtocol, "connection_lost", connection_lost, original_lost)
_VALID_HOST = [b""]  # the last Host value found valid: most requests repeat it, and skip the pattern


def _valid_host(host: bytes) -> bool:
    if HOST.fullmatch(host) is None:
        return False
    _VALID_HOST[0] = host
    return True


class _Refused(Exception):
    """Raised in a parser callback to refuse the request (httptools turns it into a parser error)."""


def _refuse(protocol: Any, status: int, reason: str) -> None:
    """Answer ``status`` with ``reason`` and close by lingering, as Uvicorn's ``send_400_response``
    answers (its default headers, ``Connection: close``)."""
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE

    transport = protocol.transport
    if transport.is_closing():
        return
    body = reason.encode("ascii")
    content = [STATUS_LINE[status]]
    for name, value in protocol.server_state.default_headers:
        content.extend([name, b": ", value, b"\r\n"])
    content.append(b"content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
                   b"connection: close\r\n\r\n%s" % (len(body), body))
    if getattr(protocol, LINGER_FD) is None:
        setattr(protocol, LINGER_FD, dup_socket(transport.get_extra_info("socket")))
    transport.write(b"".join(content))
    transport.close()


def _bound_heads_and_check_host() -> None:
    """A request head over ``server.max_header_size`` gets 431 however its bytes arrive, and an HTTP/1.1
    request without exactly one valid ``Host`` gets 400 (RFC 9112 §3.2), as on Hypercorn (h11).

    Upstream: httptools has no bound on a head (a 1 MiB field is served, and buffered while it
    arrives) and Uvicorn checks no ``Host``. The wrapped ``data_received`` counts the bytes received
    while no body is being read and refuses a head still incomplete past the limit; the wrapped
    ``on_headers_complete`` measures a complete head exactly when that count says it may be too large,
    and checks ``Host`` (raising in the callback: the wrapped ``send_400_response``, where Uvicorn
    answers a parser error, answers the refusal's status). Every refusal closes by lingering.
    """
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    original_received: Any = HttpToolsProtocol.data_received
    if getattr(original_received, "_resync_fsm", False):
        return
    original_complete: Any = HttpToolsProtocol.on_headers_complete
    original_400: Any = HttpToolsProtocol.send_400_response
    setattr(HttpToolsProtocol, HEAD, 0)
    setattr(HttpToolsProtocol, REFUSAL, None)

    def data_received(self: Any, data: bytes) -> None:
        cycle = self.cycle
        if cycle is not None and cycle.more_body:  # a body: not counted
            original_received(self, data)
            return
        self._resync_fsm_head += len(data)  # HEAD
        original_received(self, data)
        if self._resync_fsm_head > _LIMIT[0]:  # still no complete head (on_headers_complete resets it)
            _refuse(self, 431, "Request header fields too large.")

    def on_headers_complete(self: Any) -> None:
        # the serving path of every request: plain attributes and one loop, no comprehension
        if self._resync_fsm_head > _LIMIT[0] and len(self.url) + sum(
                len(n) + len(v) + 4 for n, v in self.headers) + 18 > _LIMIT[0]:
            self._resync_fsm_refusal = (431, "Request header fields too large.")  # REFUSAL
            raise _Refused
        self._resync_fsm_head = 0
        host, hosts = b"", 0
        for name, value in self.headers:
            if name == b"host":
                host, hosts = value, hosts + 1
        if hosts > 1 or host != _VALID_HOST[0] and not _valid_host(host) \
                or not hosts and self.parser.get_http_version() == "1.1":
            self._resync_fsm_refusal = (400, "Missing, repeated or invalid Host header.")
            raise _Refused
        original_complete(self)

    def send_400_response(self: Any, msg: str) -> None:
        refusal = self._resync_fsm_refusal
        _refuse(self, *(refusal if refusal is not None else (400, msg)))

    replace(HttpToolsProtocol, "data_received", data_received, original_received)
    replace(HttpToolsProtocol, "on_headers_complete", on_headers_complete, original_complete)
    replace(HttpToolsProtocol, "send_400_response", send_400_response, original_400)
