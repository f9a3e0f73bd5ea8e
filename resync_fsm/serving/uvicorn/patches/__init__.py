"""Every change resync_fsm makes to Uvicorn's process-wide state, applied by one call: :func:`install`.

- a filter on the ``uvicorn.error`` logger: Uvicorn logs a full traceback
  ("Exception in ASGI application") for a request that the graceful timeout
  cancelled; resync_fsm counts those itself (``drain_finished``,
  ``resync_fsm_requests_cut_total``), so the traceback is dropped.
- HTTP/1 request framing and closing (:mod:`.http1`): ``Connection: close`` on an answer sent
  before its request was read, a lingering close instead of a reset, the RFC 9112 framing rules.

Signal handling and ``sys.exit`` are not patched: :class:`~.server.UvicornServer`
subclasses ``uvicorn.Server`` for them. tests/serving/uvicorn/test_patches.py
checks the shape the filter relies on against the installed Uvicorn.
"""

from __future__ import annotations

import asyncio
import logging

__all__ = ["install", "not_a_cut"]

LOGGER = "uvicorn.error"


def not_a_cut(record: logging.LogRecord) -> bool:
    """False (dropped) for a record whose exception is a ``CancelledError``: a request the graceful
    timeout cut."""
    return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


def install(*, max_header_size: int = 16384) -> None:
    """Add :func:`not_a_cut` to the ``uvicorn.error`` logger (idempotent: logging adds a filter once),
    and :func:`.http1.install` (``max_header_size``: bytes of a request head accepted)."""
    from . import http1

    logging.getLogger(LOGGER).addFilter(not_a_cut)
    http1.install(max_header_size=max_header_size)
