"""Running the app's side of a server on the app's loop, from the runner's trio side.

The runner is always trio. With ``server.loop = trio`` the app shares its loop, and a
:class:`TrioBridge` just awaits. With ``asyncio`` or ``uvloop`` the runner is a trio guest
on the asyncio loop (``trio.lowlevel.start_guest_run``, see :mod:`resync_fsm.loops`), in
the same thread; an :class:`AsyncioBridge` starts the app's coroutine as an asyncio task in
a fresh ``contextvars.Context`` (so that sniffio, anyio and httpx see asyncio, not trio) and
turns its completion into a trio wake-up through the trio token.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol

import trio

__all__ = ["CANCEL_GRACE", "AsyncioBridge", "Bridge", "TrioBridge", "bridge_for"]

CANCEL_GRACE = 1.0  # seconds a cancelled app-loop task gets to finish before the trio side moves on


class Bridge(Protocol):
    """How the trio side drives coroutines and callbacks on the app's loop."""

    loop_name: str

    async def run(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``fn()`` on the app's loop until it returns (its result) or raises.

        Cancelling the trio caller cancels it there and waits for it to finish."""

    def call(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` soon on the app's loop (from the trio side)."""

    def to_trio(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` soon on the trio side (from the app's loop)."""


class TrioBridge:
    """The app runs on trio, beside the runner: everything is a direct call."""

    loop_name = "trio"

    async def run(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Await ``fn()`` here: the app shares the runner's trio loop."""
        return await fn()

    def call(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` now: the app's loop is this one."""
        fn()

    def to_trio(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` now: already on the trio side."""
        fn()


class AsyncioBridge:
    """The app runs on the asyncio (or uvloop) loop that hosts the trio runner as a guest."""

    def __init__(self, loop: asyncio.AbstractEventLoop, loop_name: str = "asyncio") -> None:
        self.loop = loop
        self.loop_name = loop_name
        self._token = trio.lowlevel.current_trio_token()

    async def run(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``fn()`` as an asyncio task in a fresh context; wait for it from trio.

        Cancelled on the trio side, the task is cancelled and given :data:`CANCEL_GRACE` seconds.
        Returns its result; its exception is raised here.
        """
        done = trio.Event()

        async def main() -> Any:
            return await fn()

        task = self.loop.create_task(main(), context=contextvars.Context())
        task.add_done_callback(partial(self._finished, done))
        try:
            await done.wait()
        finally:
            if not task.done():
                # Cancelled: cancel it there too. One cancel() does not stop everything (Hypercorn's
                # serve still awaits its graceful drain), so the wait is bounded; what is left is
                # cancelled again when the host loop closes (resync_fsm.loops).
                task.cancel()
                with trio.CancelScope(shield=True), trio.move_on_after(CANCEL_GRACE):
                    await done.wait()
        return task.result()

    def _finished(self, done: trio.Event, task: asyncio.Task[Any]) -> None:
        """``task`` is done: wake the trio side if it still waits (a no-op once trio has finished). Its
        exception is marked retrieved here: the trio side re-raises it through ``task.result()``, or,
        cancelled and gone, has no use for it (asyncio would log "Task exception was never retrieved")."""
        if not task.cancelled():
            task.exception()
        self.to_trio(done.set)

    def call(self, fn: Callable[[], None]) -> None:
        """Schedule ``fn()`` on the host loop (``call_soon_threadsafe``, a fresh context)."""
        self.loop.call_soon_threadsafe(fn, context=contextvars.Context())

    def to_trio(self, fn: Callable[[], None]) -> None:
        """Schedule ``fn()`` on the trio side through the trio token; a no-op once trio has finished."""
        try:
            self._token.run_sync_soon(fn)
        except trio.RunFinishedError:
            pass  # the lifecycle has ended: nobody left to tell


def bridge_for(loop_name: str) -> Bridge:
    """The bridge for ``server.loop``; on asyncio/uvloop the running host loop (must be called
    from the trio guest, where ``asyncio.get_running_loop()`` is the host)."""
    if loop_name == "trio":
        return TrioBridge()
    try:
        host = asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(f"server.loop = {loop_name!r} needs the runner hosted on that loop: "
                           "run it with resync_fsm.loops.run()") from None
    return AsyncioBridge(host, loop_name)
