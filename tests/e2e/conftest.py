"""Fixtures for the end-to-end tests: ``loop`` runs a test once on each app loop (issue 11)."""

from __future__ import annotations

import pytest

LOOPS = ("asyncio", "uvloop", "trio")


@pytest.fixture(params=LOOPS)
def loop(request: pytest.FixtureRequest) -> str:
    """``server.loop`` for this run of the test: pass ``RESYNC_FSM_SERVER_LOOP=loop`` to ``running``."""
    return str(request.param)
