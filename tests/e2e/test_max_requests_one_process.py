"""``--max-requests`` with one process (issue 22): as Uvicorn's ``--limit-max-requests``, the process
drains and exits 0 after that many of the app's requests (the health endpoints do not count), logged."""

from __future__ import annotations

from pathlib import Path

import httpx

from .cli import LIMIT, running

ROOT = str(Path(__file__).resolve().parents[2])


async def test_max_requests_drains_one_process_after_that_many(server_env: dict[str, str]) -> None:
    # before: silently ignored, the process served on
    async with running("--app", "tests.e2e.apps:hello_app", "--bind", "127.0.0.1:0", "--max-requests", "3",
                       cwd=ROOT, **server_env) as cli:
        url = await cli.url()
        async with httpx.AsyncClient(timeout=LIMIT) as client:
            for _ in range(5):
                assert (await client.get(url + "/readyz")).status_code == 200
            answers = [(await client.get(url + "/")).text for _ in range(3)]
        assert await cli.wait() == 0
    assert answers == ["hello"] * 3
    assert (await cli.wait_event("max_requests_reached"))["requests"] == 3
    assert cli.transitions()[-3:] == ["serving", "draining", "stopped"]
