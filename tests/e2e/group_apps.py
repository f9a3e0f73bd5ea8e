"""Starlette apps whose lifespan task group loses its consumer (issue 24 item 7), served with
``--app tests.e2e.group_apps:app``. RESYNC_TEST_GROUP says when the consumer raises: ``startup``
(at once, while the lifespan still connects), ``serving`` (once /crash was requested) or
``shutdown`` (once the shutdown began); ``import`` makes importing this module raise a group."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

WHEN = os.environ.get("RESYNC_TEST_GROUP", "")
if WHEN == "import":
    raise ExceptionGroup("settings could not be read", [KeyError("QUEUE_URL"), ValueError("bad QUEUE_SIZE")])

_events: dict[str, anyio.Event] = {}


def _event(name: str) -> anyio.Event:
    """An anyio.Event made on first use, on the app's loop."""
    if name not in _events:
        _events[name] = anyio.Event()
    return _events[name]


async def consumer() -> None:
    if WHEN in ("serving", "shutdown"):
        await _event(WHEN).wait()
    raise RuntimeError("queue subscriber lost its connection")


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    async with anyio.create_task_group() as group:
        group.start_soon(consumer)
        if WHEN == "startup":
            await anyio.sleep_forever()  # the broker connection that never comes: the consumer fails first
        yield
        _event("shutdown").set()


async def crash(request: Request) -> PlainTextResponse:
    _event("serving").set()
    return PlainTextResponse("crashing")


app = Starlette(routes=[Route("/crash", crash)], lifespan=lifespan)
