"""Every change resync_fsm makes to Uvicorn's process-wide state, applied by one call: :func:`install`.

- a filter on the ``uvicorn.error`` logger: Uvicorn logs a full traceback
  ("Exception in ASGI application") for a request that the graceful timeout
  cancelled; resync_fsm counts those itself (``drain_finished``,
  ``resync_fsm_requests_cut_total``), so the traceback is dropped.
- ``RequestResponseCycle.send`` and ``HttpToolsProtocol.connection_lost``: a response sent before its
  request was completely received carries ``Connection: close``, and its connection closes by lingering
  (:mod:`~resync_fsm.serving.lingering`) instead of being reset.

Signal handling and ``sys.exit`` are not patched: :class:`~.server.UvicornServer`
subclasses ``uvicorn.Server`` for them. tests/serving/uvicorn/test_patches.py
checks the shape each patch relies on against the installed Uvicorn.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from ..lingering import LINGERER, dup_socket

__all__ = ["install", "not_a_cut"]

LOGGER = "uvicorn.error"
LINGER_FD = "_resync_fsm_linger_fd"  # on a RequestResponseCycle: the duplicate the lingerer gets


def not_a_cut(record: logging.LogRecord) -> bool:
    """False (dropped) for a record whose exception is a ``CancelledError``: a request the graceful
    timeout cut."""
    return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


def install() -> None:
    """Add :func:`not_a_cut` to the ``uvicorn.error`` logger (idempotent: logging adds a filter once) and
    apply the lingering close (idempotent: a wrapped attribute carries ``_resync_fsm``)."""
    logging.getLogger(LOGGER).addFilter(not_a_cut)
    _linger_after_early_answers()


def _marked(fn: Any, original: Any) -> Any:
    fn._resync_fsm = True
    fn.__wrapped__ = original
    return fn


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

    async def send(self: Any, message: Any) -> None:
        if self.more_body:  # the request's body is not completely received
            if not self.response_started:
                self.keep_alive = False
            if not self.keep_alive and not message.get("more_body", False) \
                    and message["type"] == "http.response.body" and getattr(self, LINGER_FD) is None:
                setattr(self, LINGER_FD, dup_socket(self.transport.get_extra_info("socket")))
        await original_send(self, message)

    original_lost: Any = HttpToolsProtocol.connection_lost

    def connection_lost(self: Any, exc: Exception | None) -> None:
        cycle = self.cycle
        try:
            original_lost(self, exc)
        finally:
            fd = getattr(cycle, LINGER_FD, None)
            if fd is not None:
                setattr(cycle, LINGER_FD, None)
                if exc is None:
                    LINGERER.take(fd)
                else:  # the client reset or vanished: nothing to linger for
                    os.close(fd)

    RequestResponseCycle.send = _marked(send, original_send)  # type: ignore[method-assign]
    HttpToolsProtocol.connection_lost = _marked(connection_lost, original_lost)  # type: ignore[method-assign]
