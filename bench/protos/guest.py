"""Prototype (a): trio as a guest on the asyncio loop, one thread (what resync_fsm does).

    python bench/protos/guest.py PORT [DRAIN_DELAY]

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


def main(port: int, drain_delay: float) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stop = asyncio.Event()
    done = loop.create_future()

    async def lifecycle() -> None:  # trio, the guest
        with trio.open_signal_receiver(signal.SIGTERM) as signals:
            async for _ in signals:
                global READY
                READY = False
                await trio.sleep(drain_delay)
                loop.call_soon_threadsafe(stop.set)
                return

    async def trigger() -> None:
        global READY
        READY = True  # Hypercorn awaits its trigger once its listeners serve
        await stop.wait()

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    trio.lowlevel.start_guest_run(lifecycle, run_sync_soon_threadsafe=loop.call_soon_threadsafe,
                                  done_callback=lambda outcome: done.set_result(outcome),
                                  host_uses_signal_set_wakeup_fd=False)
    loop.run_until_complete(worker_serve(wrap_app(app, 0, "asgi"), config, shutdown_trigger=trigger))
    loop.run_until_complete(done).unwrap()
    loop.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.5)
