"""The bridges from the runner's trio side to the app's loop: a direct await on trio, an asyncio task in a fresh
context on asyncio and uvloop (the runner a trio guest there, hosted by resync_fsm.loops.run)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sniffio
import trio

from resync_fsm import loops
from resync_fsm.serving import loop_bridge
from resync_fsm.serving.loop_bridge import AsyncioBridge, TrioBridge, bridge_for

MARK: contextvars.ContextVar[str] = contextvars.ContextVar("MARK", default="unset")


class Boom(Exception):
    pass


def hosted(main: Callable[[AsyncioBridge], Awaitable[Any]], loop: str = "asyncio") -> Any:
    """Run ``main(bridge)`` as a trio guest on a new ``loop``, with the bridge bridge_for makes there."""

    async def guest() -> Any:
        bridge = bridge_for(loop)
        assert isinstance(bridge, AsyncioBridge) and bridge.loop_name == loop
        return await main(bridge)

    return loops.run(guest, loop)


# --- trio ----------------------------------------------------------------------------------------------


async def test_the_trio_bridge_awaits_and_calls_directly() -> None:
    bridge = bridge_for("trio")
    assert isinstance(bridge, TrioBridge) and bridge.loop_name == "trio"

    async def answer() -> int:
        return 42

    async def fails() -> None:
        raise Boom("there")

    assert await bridge.run(answer) == 42
    with pytest.raises(Boom, match="there"):
        await bridge.run(fails)
    called: list[str] = []
    bridge.call(lambda: called.append("call"))
    bridge.to_trio(lambda: called.append("to_trio"))
    assert called == ["call", "to_trio"]  # at once: one loop


async def test_bridge_for_an_asyncio_loop_outside_its_host_says_how_to_run_it() -> None:
    with pytest.raises(RuntimeError, match=r"server.loop = 'uvloop' needs the runner hosted on that loop: "
                                           r"run it with resync_fsm.loops.run\(\)"):
        bridge_for("uvloop")


# --- asyncio, uvloop -----------------------------------------------------------------------------------


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_run_returns_the_result_of_an_asyncio_task_in_a_fresh_context(loop: str) -> None:
    async def main(bridge: AsyncioBridge) -> tuple[Any, ...]:
        MARK.set("trio side")

        async def on_the_app_loop() -> tuple[Any, ...]:
            await asyncio.sleep(0)  # a real asyncio await
            return (sniffio.current_async_library(), asyncio.get_running_loop() is bridge.loop, MARK.get())

        return tuple(await bridge.run(on_the_app_loop))

    assert hosted(main, loop) == ("asyncio", True, "unset")


def test_run_raises_the_tasks_exception_on_the_trio_side() -> None:
    async def main(bridge: AsyncioBridge) -> str:
        async def fails() -> None:
            await asyncio.sleep(0)
            raise Boom("on the app loop")

        with pytest.raises(Boom, match="on the app loop"):
            await bridge.run(fails)
        return "raised"

    assert hosted(main) == "raised"


def test_a_cancelled_run_cancels_the_task_and_waits_for_its_cleanup() -> None:
    events: list[str] = []

    async def main(bridge: AsyncioBridge) -> list[str]:
        async def cleans_up() -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                events.append("cancelled there")
                await asyncio.sleep(0.01)  # its cleanup awaits: the trio side waits for it
                events.append("cleaned up")
                raise

        with trio.move_on_after(0.01):
            await bridge.run(cleans_up)
        events.append("trio side moved on")
        return events

    assert hosted(main) == ["cancelled there", "cleaned up", "trio side moved on"]


def test_a_task_that_ignores_its_cancel_is_left_after_cancel_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop_bridge, "CANCEL_GRACE", 0.05)
    events: list[str] = []

    async def main(bridge: AsyncioBridge) -> float:
        async def stubborn() -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                events.append("ignored one cancel")
            await asyncio.sleep(3600)  # cancelled again when the host loop closes (resync_fsm.loops)

        started = trio.current_time()
        with trio.move_on_after(0.01):
            await bridge.run(stubborn)
        return trio.current_time() - started

    waited = hosted(main)
    assert events == ["ignored one cancel"]
    assert 0.05 <= waited < 0.05 + 2.0  # the grace, not the hour (generous: a loaded machine)


def test_call_runs_on_the_app_loop_later_and_to_trio_runs_on_the_trio_side() -> None:
    seen: list[tuple[str, Any]] = []

    async def main(bridge: AsyncioBridge) -> None:
        MARK.set("trio side")
        back = trio.Event()

        def on_trio() -> None:
            seen.append(("to_trio", trio.lowlevel.current_task() is not None))
            back.set()

        def there() -> None:
            seen.append(("call", (asyncio.get_running_loop() is bridge.loop, MARK.get())))
            bridge.to_trio(on_trio)

        bridge.call(there)
        seen.append(("after call", None))  # scheduled, not called at once
        with trio.fail_after(10):
            await back.wait()

    hosted(main)
    assert seen == [("after call", None), ("call", (True, "unset")), ("to_trio", True)]


def test_to_trio_once_trio_has_finished_is_a_no_op() -> None:
    async def main(bridge: AsyncioBridge) -> AsyncioBridge:
        return bridge

    bridge = hosted(main)
    called: list[int] = []
    bridge.to_trio(lambda: called.append(1))  # the lifecycle ended: nobody left to tell
    assert called == []
