"""Issue 25: ``--root-path /api`` routes and builds URLs the same on both engines (web/root_path.py).

A proxy serving the app under /api strips the prefix, so the requests arrive unprefixed; the same
requests go to each engine and every answer must be the same: the route found, ``request.url`` and
``url_for`` with the prefix, the health endpoints at their own paths, a prefixed path not found.
"""

from __future__ import annotations

import signal
from typing import Any

import httpx
import pytest

from .cli import running

ENGINES = ("hypercorn", "uvicorn")


async def _answers(engine: str) -> list[Any]:
    async with running("--app", "tests.e2e.root_path_app:app", "--bind", "127.0.0.1:0", "--root-path", "/api",
                       "--engine", engine, "--loop", "asyncio", "--graceful-timeout", "1") as cli:
        url = await cli.url()
        port = url.rsplit(":", 1)[1]
        async with httpx.AsyncClient(timeout=20) as client:
            user = await client.get(url + "/users/7")
            ready = await client.get(url + "/readyz")
            prefixed = await client.get(url + "/api/users/7")  # the proxy did strip it: not a route
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    body = user.json()
    body["url"] = body["url"].replace(port, "PORT")
    body["url_for"] = body["url_for"].replace(port, "PORT")
    return [user.status_code, body, ready.status_code, prefixed.status_code]


@pytest.mark.parametrize("engine", ENGINES)
async def test_root_path_routes_and_builds_urls_the_same_on_every_engine(engine: str) -> None:
    assert await _answers(engine) == [
        200, {"url": "http://127.0.0.1:PORT/api/users/7", "url_for": "http://127.0.0.1:PORT/api/users/7",
              "path": "/api/users/7", "root_path": "/api", "uid": "7"}, 200, 404]
