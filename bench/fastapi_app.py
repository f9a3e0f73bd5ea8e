"""A small FastAPI app for the engine benchmark (`bench.fastapi_app:app`): one JSON route, a lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.greeting = "world"
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/")
async def hello() -> dict[str, str]:
    return {"hello": app.state.greeting}
