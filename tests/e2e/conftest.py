"""Fixtures for the end-to-end tests: ``server_env`` runs a test once with no engine or loop option (the
default: ``auto``, issue 25) and once on each engine and app loop it serves (issues 11 and 15); ``loop``
once on each app loop (with the default engine for it: Uvicorn on asyncio and uvloop, Hypercorn on trio)."""

from __future__ import annotations

import pytest

LOOPS = ("asyncio", "uvloop", "trio")
# (server.engine, server.loop): Hypercorn on every loop, Uvicorn on asyncio and uvloop.
# (None, None): no option at all, the default (server.engine = server.loop = auto: Uvicorn on uvloop here).
SERVERS = ((None, None), *(("hypercorn", loop) for loop in LOOPS), ("uvicorn", "asyncio"), ("uvicorn", "uvloop"))


@pytest.fixture(params=LOOPS)
def loop(request: pytest.FixtureRequest) -> str:
    """``server.loop`` for this run of the test: pass ``RESYNC_FSM_SERVER_LOOP=loop`` to ``running``."""
    return str(request.param)


@pytest.fixture(params=SERVERS, ids=["-".join(pair) if pair[0] else "default" for pair in SERVERS])
def server_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment choosing this run's engine and loop (none for the default): ``running(..., **server_env)``."""
    engine, loop = request.param
    return {} if engine is None else {"RESYNC_FSM_SERVER_ENGINE": engine, "RESYNC_FSM_SERVER_LOOP": loop}
