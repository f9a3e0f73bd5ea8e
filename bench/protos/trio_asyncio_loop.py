"""Prototype (c): trio-asyncio, an asyncio loop running inside trio.

    python -m bench.protos.trio_asyncio_loop PORT [DRAIN_DELAY]

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
from hypercorn.utils import wrap_app

from bench.protos.hello import app, config, readiness


async def main(port: int, drain_delay: float) -> None:
    stop = trio.Event()

    async def lifecycle() -> None:  # trio
        with trio.open_signal_receiver(signal.SIGTERM) as signals:
            async for _ in signals:
                readiness.ready = False
                await trio.sleep(drain_delay)
                stop.set()
                return

    async def trigger() -> None:  # asyncio, inside trio
        readiness.ready = True  # Hypercorn awaits its trigger once its listeners serve
        await trio_asyncio.trio_as_aio(stop.wait)()

    async with trio_asyncio.open_loop():
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lifecycle)
            await trio_asyncio.aio_as_trio(worker_serve)(wrap_app(app, 0, "asgi"), config(port),
                                                         shutdown_trigger=trigger)


if __name__ == "__main__":
    trio.run(main, int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.5)
