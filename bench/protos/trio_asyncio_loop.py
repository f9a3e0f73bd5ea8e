"""Prototype (c): trio-asyncio, an asyncio loop running inside trio.

    python bench/protos/trio_asyncio_loop.py PORT [DRAIN_DELAY]

trio.run is the process's loop; trio_asyncio.open_loop() provides an asyncio loop
inside it, on which hypercorn.asyncio serves a raw ASGI hello app. A trio task
receives SIGTERM, turns /readyz to 503, waits DRAIN_DELAY, then triggers
Hypercorn's shutdown.
"""

from __future__ import annotations

import signal
import sys

import trio
import trio_asyncio
from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config
from hypercorn.utils import wrap_app

READY = False


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    status, body = (200 if READY else 503, b"ready") if scope["path"] == "/readyz" else (200, b"hello")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def main(port: int, drain_delay: float) -> None:
    stop = trio.Event()

    async def lifecycle() -> None:  # trio
        with trio.open_signal_receiver(signal.SIGTERM) as signals:
            async for _ in signals:
                global READY
                READY = False
                await trio.sleep(drain_delay)
                stop.set()
                return

    async def trigger() -> None:  # asyncio, inside trio
        global READY
        READY = True  # Hypercorn awaits its trigger once its listeners serve
        await trio_asyncio.trio_as_aio(stop.wait)()

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    async with trio_asyncio.open_loop():
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lifecycle)
            await trio_asyncio.aio_as_trio(worker_serve)(wrap_app(app, 0, "asgi"), config, shutdown_trigger=trigger)


if __name__ == "__main__":
    trio.run(main, int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.5)
