"""A Resync-shaped app: FastAPI on asyncio with an aiohttp session, a redis.asyncio client and a
background task opened in its lifespan, handlers that await asyncio.sleep and use Redis.

``RESYNC_TEST_MARKS`` names a file the app appends its lifespan events to, so that a test can
see that startup and shutdown ran, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from fastapi import FastAPI

from resync_fsm import get_validated_settings

from .apps import _mark

WORK_SECONDS = 0.5


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = await get_validated_settings()  # Resync's API, as its own startup calls it
    assert settings.resync.redis_url is not None
    app.state.http = aiohttp.ClientSession()
    app.state.redis = aioredis.from_url(settings.resync.redis_url)
    await app.state.redis.ping()
    app.state.ticks = 0

    async def heartbeat() -> None:
        while True:
            app.state.ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(heartbeat())
    _mark("startup")
    try:
        yield
    finally:
        task.cancel()
        await app.state.http.close()
        await app.state.redis.aclose()
        _mark("shutdown")


app = FastAPI(lifespan=lifespan)


@app.get("/hello")
async def hello() -> dict[str, Any]:
    await asyncio.sleep(0.01)
    return {"hello": "world", "ticks": app.state.ticks}


@app.get("/count")
async def count() -> dict[str, Any]:
    return {"count": await app.state.redis.incr("resync-test-count")}


@app.get("/work")
async def work() -> dict[str, Any]:
    await asyncio.sleep(WORK_SECONDS)
    return {"done": True}


@app.get("/session")
async def session() -> dict[str, Any]:
    return {"closed": app.state.http.closed}
