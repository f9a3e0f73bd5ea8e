"""Running the trio lifecycle on the loop the app needs (``server.loop``; DESIGN §5).

``trio``: ``trio.run``. ``asyncio`` and ``uvloop``: the runner is a trio guest
(``trio.lowlevel.start_guest_run``) on a new asyncio or uvloop loop in this thread,
which serves the app. The host is driven with ``run_until_complete`` on a future
that trio's done callback resolves, not ``asyncio.run`` (which cancels the guest's
host task on Ctrl-C and orphans it); afterwards every task left on the host loop
is cancelled, given a bounded moment, and the loop closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import trio

__all__ = ["LOOPS", "new_host_loop", "run"]

T = TypeVar("T")
LOOPS = ("asyncio", "uvloop", "trio")
_LEFTOVER_GRACE = 1.0  # seconds the host loop's leftover tasks get once the lifecycle ended


def new_host_loop(name: str) -> asyncio.AbstractEventLoop:
    """A new event loop for ``name`` ("asyncio" or "uvloop"; uvloop must be installed)."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(main: Callable[[], Awaitable[T]], loop: str = "asyncio") -> T:
    """Run ``main`` (a trio async function) to completion with the app's loop ``loop`` as host.

    Returns its result or raises its exception, as ``trio.run`` does.
    """
    if loop == "trio":
        return trio.run(main)
    host = new_host_loop(loop)
    asyncio.set_event_loop(host)
    done: asyncio.Future[Any] = host.create_future()

    def finished(outcome: Any) -> None:
        if not done.done():
            done.set_result(outcome)

    try:
        trio.lowlevel.start_guest_run(
            main,
            run_sync_soon_threadsafe=host.call_soon_threadsafe,
            done_callback=finished,
            # uvloop installs its own signal wakeup fd; asyncio does only with add_signal_handler
            host_uses_signal_set_wakeup_fd=(loop == "uvloop"),
        )
        outcome = host.run_until_complete(done)
        _cancel_leftovers(host)
    finally:
        asyncio.set_event_loop(None)
        host.close()
    result: T = outcome.unwrap()
    return result


def _cancel_leftovers(host: asyncio.AbstractEventLoop) -> None:
    """Cancel what the app left on the loop (connections past the drain budget, say), bounded."""
    tasks = [task for task in asyncio.all_tasks(host) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        host.run_until_complete(asyncio.wait(tasks, timeout=_LEFTOVER_GRACE))
    host.run_until_complete(host.shutdown_asyncgens())
