"""Dependency probes: tcp, http, redis, postgres — trio-native, run all at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from ..settings.model import ProbeSpec
from .fanout import Attempt, Backoff, ProbeBoard, probe_all, unavailable_error
from .results import REASONS, ProbeFailure, ProbeResult
from .tcp import attempt_tcp

if TYPE_CHECKING:
    import httpx

__all__ = [
    "REASONS",
    "Attempt",
    "Backoff",
    "ProbeBoard",
    "ProbeFailure",
    "ProbeResult",
    "open_attempt",
    "probe_all",
    "unavailable_error",
]


@asynccontextmanager
async def open_attempt(
    specs: tuple[ProbeSpec, ...], *, http_transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Attempt]:
    """The attempt function for these probes; httpx is imported only if one needs it."""
    async with AsyncExitStack() as stack:
        client = None
        if any(spec.kind == "http" for spec in specs):
            from .http import open_http_client

            client = await stack.enter_async_context(open_http_client(http_transport))

        async def attempt(spec: ProbeSpec) -> str:
            if spec.kind == "tcp":
                return await attempt_tcp(spec)
            if spec.kind == "http":
                from .http import attempt_http

                assert client is not None
                return await attempt_http(spec, client)
            if spec.kind == "redis":
                from .redis import attempt_redis

                return await attempt_redis(spec)
            if spec.kind == "postgres":
                from .postgres import attempt_postgres

                return await attempt_postgres(spec)
            raise ProbeFailure("not_configured", f"unknown probe kind {spec.kind!r}")

        yield attempt
