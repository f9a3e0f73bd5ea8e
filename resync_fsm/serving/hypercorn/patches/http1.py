"""Hypercorn's HTTP/1 connections read and closed as RFC 9112 asks (issues 23, 24, 25), applied by
:func:`install` from :func:`.patches.install`; each patch wraps one upstream attribute once (marked
``_resync_fsm``) and names the upstream behaviour it works around; tests/serving/hypercorn/
test_http1_patches.py checks each shape against the installed Hypercorn and h11.

- ``H11Protocol.stream_send``: ``Connection: close`` on a response sent before its request was read.
- ``TCPServer._close`` (asyncio and trio): such a connection lingers instead of being reset
  (:mod:`~resync_fsm.serving.lingering`).
- h11's request reader and chunk-size pattern (process-wide, as h11 is): the framing rules of
  tests/e2e/framing.py, answered as Uvicorn (httptools) answers them.
"""

from __future__ import annotations

import re
from typing import Any

from ...http1 import HOST
from ...lingering import LINGERER, dup_socket
from ...patching import marked, replace

__all__ = ["install"]


def install(*, max_header_size: int) -> None:
    """Apply every patch of this module (idempotent); ``max_header_size`` bytes of a request head."""
    _close_after_early_answers()
    _linger_on_close()
    _frame_requests_strictly(max_header_size)


def _close_after_early_answers() -> None:
    """A final response that starts before its request's body was completely received carries
    ``Connection: close`` (RFC 9112 §9.6: the server SHOULD send "close" when it closes after it).

    Upstream: Hypercorn closes such a connection after the response (h11 cannot start the next cycle)
    without saying so; a keep-alive client may send its next request into the closing connection.
    """
    import h11
    from hypercorn.protocol.events import Response
    from hypercorn.protocol.h11 import H11Protocol

    original: Any = H11Protocol.stream_send
    if getattr(original, "_resync_fsm", False):
        return

    send_body = h11.SEND_BODY  # their_state while the request's body is still arriving

    def stream_send(self: Any, event: Any) -> Any:
        # a plain function returning upstream's coroutine: no second coroutine on every event
        if event.__class__ is Response and self.connection.their_state is send_body and event.status_code >= 200 \
                and not any(n.lower() == b"connection" and b"close" in v.lower() for n, v in event.headers):
            event = Response(stream_id=event.stream_id, status_code=event.status_code,
                             headers=[*event.headers, (b"connection", b"close")])
        return original(self, event)

    replace(H11Protocol, "stream_send", stream_send, original)
def _must_linger(server: Any) -> bool:
    """Whether the connection ``server`` (a Hypercorn ``TCPServer``) closes while its client may still
    be sending: an HTTP/1 request whose body was not completely received, or one rejected as malformed."""
    import h11

    connection = getattr(getattr(getattr(server, "protocol", None), "protocol", None), "connection", None)
    return isinstance(connection, h11.Connection) and connection.their_state in (h11.SEND_BODY, h11.ERROR)


def _linger_on_close() -> None:
    """Close a connection whose client may still be sending by lingering (RFC 9112 §9.6; nginx's
    ``lingering_close``): the engine closes its descriptor, :data:`~..lingering.LINGERER` a duplicate.

    Upstream: Hypercorn's ``TCPServer._close`` (asyncio and trio) half-closes and closes at once; with
    request bytes unread or still arriving the kernel resets the connection, and a client still sending
    its body gets ``EPIPE``/``ECONNRESET`` instead of the answer (issue 23; tests/e2e/test_lingering.py).
    """
    import hypercorn.asyncio.tcp_server as on_asyncio
    import hypercorn.trio.tcp_server as on_trio

    def asyncio_socket(server: Any) -> Any:
        return server.writer.get_extra_info("socket")

    def trio_socket(server: Any) -> Any:
        return getattr(getattr(server.stream, "transport_stream", server.stream), "socket", None)

    for module, socket_of in ((on_asyncio, asyncio_socket), (on_trio, trio_socket)):
        original: Any = module.TCPServer._close
        if getattr(original, "_resync_fsm", False):
            continue

        async def close(self: Any, original: Any = original, socket_of: Any = socket_of) -> None:
            fd = None
            if not getattr(self, "_resync_fsm_closing", False):
                self._resync_fsm_closing = True
                if _must_linger(self):
                    fd = dup_socket(socket_of(self))
            try:
                await original(self)
            finally:
                if fd is not None:
                    LINGERER.take(fd)

        replace(module.TCPServer, "_close", close, original)


_LIMIT = [16384]  # bytes of a request head accepted (server.max_header_size), set by install
_BARE_END = re.compile(rb"\r?\n\r?\n")  # a head's end when its lines end in a bare LF
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # HTAB, CR and LF apart (RFC 9110 §5.5)
_FRAMING = re.compile(rb"\n(content-length|transfer-encoding|host)[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)
_VALID_HOST = [b""]  # the last Host value found valid: most requests repeat it, and skip the pattern


def _head_problem(head: bytearray) -> tuple[str, int] | None:
    """What is wrong with a request ``head`` (its bytes up to the blank line) that h11 lets through, as
    (reason, status), or None. See tests/e2e/framing.py for the list and its sources. On every request:
    C-level searches, one pattern over the head, one loop."""
    if len(head) > _LIMIT[0]:
        return "request head too large", 431
    crlf = head.count(b"\r\n")
    if head.count(b"\r") != crlf or head.count(b"\n") != crlf or _CONTROL.search(head):
        return "bare CR, bare LF or a control character in the request head", 400
    if b"\n " in head or b"\n\t" in head:
        return "obs-fold in the request head", 400
    lengths, codings, host = 0, b"", b""
    for name, value in _FRAMING.findall(head):
        name = name.lower()
        if name == b"host":
            host = value.rstrip(b" \t")
        elif name == b"content-length":
            lengths += 2 if b"," in value else 1
        else:
            codings = value.rstrip(b" \t").lower()
    if lengths > 1:
        return "more than one Content-Length", 400
    if codings and lengths:
        return "both Content-Length and Transfer-Encoding", 400
    if codings and codings.rsplit(b",", 1)[-1].strip() != b"chunked":
        return "Transfer-Encoding not ending in chunked", 400
    if host != _VALID_HOST[0]:
        if not HOST.fullmatch(host):
            return "an invalid Host", 400
        _VALID_HOST[0] = host
    return None


def _frame_requests_strictly(max_header_size: int) -> None:
    """Answer the framing rules as Uvicorn (httptools) does, per RFC 9112 (tests/e2e/framing.py).

    Upstream: h11 (Hypercorn's HTTP/1 parser) repairs what RFC 9112 lets a server repair or reject
    (obs-fold, duplicate equal Content-Length, a control character in a value), serves a request with
    both Content-Length and Transfer-Encoding (keeping the connection open), answers 501 for a
    Transfer-Encoding not ending in chunked (§6.3: 400), accepts a 20-digit chunk size, and bounds the
    head only while it is incomplete (a 20 KiB head in one read is served). The wrapped reader of an
    idle client's request (h11's ``READERS[CLIENT, IDLE]``, process-wide) checks the complete head
    first and raises h11's ``LocalProtocolError`` with the status (Hypercorn answers it and closes);
    the chunk-size pattern allows 16 hex digits (64 bits, llhttp's bound).
    """
    import h11
    from h11 import _readers

    _LIMIT[0] = max_header_size
    original: Any = _readers.READERS[h11.CLIENT, h11.IDLE]
    if getattr(original, "_resync_fsm", False):
        return

    def read_request(buf: Any) -> Any:
        data = buf._data
        end = data.find(b"\r\n\r\n") + 4
        if end == 3:  # not there: an incomplete head (h11 bounds it), or lines ending in a bare LF
            bare = _BARE_END.search(data)
            end = bare.end() if bare is not None else 0
        if end:
            problem = _head_problem(data[:end])
            if problem is not None:
                raise h11.LocalProtocolError(problem[0], error_status_hint=problem[1])
        return original(buf)

    _readers.READERS[h11.CLIENT, h11.IDLE] = marked(read_request, original)
    pattern = _readers.chunk_header_re.pattern
    _readers.chunk_header_re = re.compile(pattern.replace(b"{1,20}", b"{1,16}"))
