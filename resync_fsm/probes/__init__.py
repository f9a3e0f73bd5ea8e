"""Dependency probes: tcp, http, redis, postgres — trio-native, run all at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
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
    "probe_board",
    "unavailable_error",
]


@asynccontextmanager
async def open_attempt(
    specs: tuple[ProbeSpec, ...], *, http_transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Attempt]:
    """The attempt function for these probes. Each kind's module is imported only when a
    probe needs it (httpx above all), once, here rather than on every attempt."""
    kinds = {spec.kind for spec in specs}
    by_kind: dict[str, Callable[[ProbeSpec], Awaitable[str]]] = {"tcp": attempt_tcp}
    async with AsyncExitStack() as stack:
        if "http" in kinds:
            from functools import partial

            from .http import attempt_http, open_http_client

            client = await stack.enter_async_context(open_http_client(http_transport))
            by_kind["http"] = partial(attempt_http, client=client)
        if "redis" in kinds:
            from .redis import attempt_redis

            by_kind["redis"] = attempt_redis
        if "postgres" in kinds:
            from .postgres import attempt_postgres

            by_kind["postgres"] = attempt_postgres

        async def attempt(spec: ProbeSpec) -> str:
            run = by_kind.get(spec.kind)
            if run is None:
                raise ProbeFailure("not_configured", f"no {spec.kind!r} probe here")
            return await run(spec)

        yield attempt


async def probe_board(board: ProbeBoard, *, deadline: float, until_settled: bool = True) -> None:
    """Probe every probe of ``board`` with the real protocol checks (see :func:`probe_all`)."""
    async with open_attempt(tuple(board.specs.values())) as attempt:
        await probe_all(board, attempt, deadline=deadline, until_settled=until_settled)
