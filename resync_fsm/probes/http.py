"""The ``http`` probe: a GET (never HEAD: many APIs answer 405 to it), following redirects."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from ..redaction import redact_url
from ..settings.model import ProbeSpec
from .results import ProbeFailure
from .tcp import reason_for_oserror

__all__ = ["attempt_http", "open_http_client"]

USER_AGENT = "resync_fsm-probe"


@asynccontextmanager
async def open_http_client(
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """One client for every HTTP probe of a run, with no pool cap to serialise them."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        limits=limits,
        transport=transport,
        follow_redirects=True,
        headers={"user-agent": USER_AGENT},
        timeout=None,  # each attempt runs under the runner's own deadline
    ) as client:
        yield client


async def attempt_http(spec: ProbeSpec, client: httpx.AsyncClient) -> str:
    """One HTTP GET of ``spec.url`` (redirects followed) with ``client``; returns the status line.

    Raises :class:`~resync_fsm.errors.ProbeFailure` with a reason code (``http_status``,
    ``refused``, ``timeout``, ``dns``, ``tls``, …) when it is not healthy (DESIGN §4).
    """
    assert spec.url is not None
    try:
        # Streaming: the status is all we need, not the body.
        async with client.stream("GET", spec.url) as response:
            status = response.status_code
    except httpx.HTTPError as exc:
        raise _failure(exc) from exc
    if not spec.status_ok(status):
        raise ProbeFailure("http_status", f"GET {redact_url(spec.url)} answered {status}")
    return f"GET answered {status}"


def _failure(exc: httpx.HTTPError) -> ProbeFailure:
    if isinstance(exc, httpx.TimeoutException):
        return ProbeFailure("timeout", "no answer in time ([[probes]] timeout)")
    if isinstance(exc, httpx.TooManyRedirects):
        return ProbeFailure("protocol", "too many redirects")
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return ProbeFailure("tls", f"TLS handshake failed: {getattr(cause, 'reason', None) or cause}")
        if isinstance(cause, OSError):
            return ProbeFailure(*reason_for_oserror(cause))
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.DecodingError, httpx.UnsupportedProtocol)):
        return ProbeFailure("protocol", f"not a valid HTTP answer: {exc}")
    if isinstance(exc, httpx.ConnectError):
        return ProbeFailure("network", str(exc) or "connection failed")
    return ProbeFailure("protocol", str(exc) or type(exc).__name__)
