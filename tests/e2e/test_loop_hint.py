"""An asyncio app served with ``--loop trio`` (issue 22): its first failing request logs one warning naming
``--loop asyncio``; an app failing for another reason gets none."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from .cli import LIMIT, running

ROOT = str(Path(__file__).resolve().parents[2])


@pytest.mark.parametrize(("app", "hinted"), [("asyncio_app", True), ("asyncio_yield_app", True),
                                             ("failing_app", False)])
async def test_an_asyncio_app_on_trio_is_named_once(app: str, hinted: bool) -> None:
    async with running("--app", f"tests.e2e.apps:{app}", "--bind", "127.0.0.1:0", "--loop", "trio",
                       cwd=ROOT) as cli:
        url = await cli.url()
        async with httpx.AsyncClient(timeout=LIMIT) as client:
            assert [(await client.get(url + "/")).status_code for _ in range(3)] == [500] * 3
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    warnings = [e for e in cli.events if e.get("event") == "app_needs_asyncio"]
    assert len(warnings) == (1 if hinted else 0), warnings
    if hinted:
        assert "--loop asyncio" in warnings[0]["hint"]
