"""Prototype (a): trio as a guest on the asyncio loop, one thread (what resync_fsm does).

    python -m bench.protos.guest PORT [DRAIN_DELAY]

The asyncio loop serves a raw ASGI hello app with hypercorn.asyncio; trio runs as
a guest (trio.lowlevel.start_guest_run) on that loop, receives SIGTERM itself,
turns /readyz to 503, waits DRAIN_DELAY, then triggers Hypercorn's shutdown.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import trio
from hypercorn.asyncio.run import worker_serve
from hypercorn.utils import wrap_app

from bench.protos.hello import app, config, readiness


def main(port: int, drain_delay: float) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stop = asyncio.Event()
    done = loop.create_future()

    async def lifecycle() -> None:  # trio, the guest
        with trio.open_signal_receiver(signal.SIGTERM) as signals:
            async for _ in signals:
                readiness.ready = False
                await trio.sleep(drain_delay)
                loop.call_soon_threadsafe(stop.set)
                return

    async def trigger() -> None:
        readiness.ready = True  # Hypercorn awaits its trigger once its listeners serve
        await stop.wait()

    trio.lowlevel.start_guest_run(lifecycle, run_sync_soon_threadsafe=loop.call_soon_threadsafe,
                                  done_callback=lambda outcome: done.set_result(outcome),
                                  host_uses_signal_set_wakeup_fd=False)
    loop.run_until_complete(worker_serve(wrap_app(app, 0, "asgi"), config(port), shutdown_trigger=trigger))
    loop.run_until_complete(done).unwrap()
    loop.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.5)
