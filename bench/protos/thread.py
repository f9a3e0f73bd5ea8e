"""Prototype (b): trio in a second thread, asyncio in the main thread.

    python -m bench.protos.thread PORT [DRAIN_DELAY]

The main thread's asyncio loop serves a raw ASGI hello app with hypercorn.asyncio
and receives SIGTERM (only the main thread can); it forwards the signal to the trio
thread through the trio token. trio turns /readyz to 503, waits DRAIN_DELAY, then
triggers Hypercorn's shutdown on the asyncio loop.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading

import trio
from hypercorn.asyncio.run import worker_serve
from hypercorn.utils import wrap_app

from bench.protos.hello import app, config, readiness


async def main(port: int, drain_delay: float) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    tokens: list[trio.lowlevel.TrioToken] = []
    started = threading.Event()
    term = None

    async def lifecycle() -> None:  # trio, in its own thread
        nonlocal term
        term = trio.Event()
        tokens.append(trio.lowlevel.current_trio_token())
        started.set()
        await term.wait()
        readiness.ready = False
        await trio.sleep(drain_delay)
        loop.call_soon_threadsafe(stop.set)

    thread = threading.Thread(target=trio.run, args=(lifecycle,), name="trio")
    thread.start()
    started.wait()
    loop.add_signal_handler(signal.SIGTERM, lambda: tokens[0].run_sync_soon(term.set))  # type: ignore[union-attr]

    async def trigger() -> None:
        readiness.ready = True  # Hypercorn awaits its trigger once its listeners serve
        await stop.wait()

    await worker_serve(wrap_app(app, 0, "asgi"), config(port), shutdown_trigger=trigger)
    await asyncio.to_thread(thread.join)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.5))
