"""The app's ASGI lifespan as resync_fsm drives it: each phase's success, failure, timeout, the modes, a crash
while serving; scripted apps on trio's MockClock."""

from __future__ import annotations

import gc
import math
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
import trio
import trio.lowlevel
import trio.testing

from resync_fsm.errors import LifespanError
from resync_fsm.serving.lifespan import Lifespan
from resync_fsm.web.asgi import Message, Receive, Scope, Send

Script = Callable[[Scope, Receive, Send], Awaitable[None]]


class Boom(Exception):
    pass


@asynccontextmanager
async def running(app: Script, **options: Any) -> AsyncIterator[Lifespan]:
    """A :class:`Lifespan` of ``app`` whose task group lives for the block (as a server's does)."""
    options = {"startup_timeout": 5.0, "shutdown_timeout": 3.0, **options}
    lifespan = Lifespan(app, **options)
    async with anyio.create_task_group() as group:
        lifespan.group = group  # type: ignore[attr-defined]  # for the tests' startup calls
        yield lifespan
        group.cancel_scope.cancel()


async def start(lifespan: Lifespan) -> None:
    await lifespan.startup(lifespan.group)  # type: ignore[attr-defined]


def speaks(startup: str = "complete", shutdown: str = "complete", *, seen: list[Message] | None = None,
           serving: Callable[[], Awaitable[None]] | None = None) -> Script:
    """An app answering ``lifespan.<phase>.<startup|shutdown>`` ("complete", "failed", "raise", "hang")."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan" and scope["asgi"]["spec_version"] == "2.0"
        for phase, answer in (("startup", startup), ("shutdown", shutdown)):
            message = await receive()
            if seen is not None:
                seen.append(message)
            assert message["type"] == f"lifespan.{phase}"
            if answer == "raise":
                raise Boom(f"{phase} broke")
            if answer == "hang":
                await trio.sleep_forever()
            if phase == "startup":
                scope["state"]["db"] = "connected"
            await send({"type": f"lifespan.{phase}.{answer}", "message": f"{phase} said no\nsecond line"})
            if phase == "startup" and serving is not None:
                await serving()

    return app


def _answers(phase: str, answer: str) -> tuple[str, str]:
    """(startup, shutdown) answers: ``answer`` in ``phase``, "complete" in the other."""
    return (answer, "complete") if phase == "startup" else ("complete", answer)


async def test_startup_then_shutdown_complete_and_the_state_is_the_apps() -> None:
    seen: list[Message] = []
    async with running(speaks(seen=seen)) as lifespan:
        await start(lifespan)
        assert lifespan.started and lifespan.supported and lifespan.state == {"db": "connected"}
        await lifespan.shutdown()
        await lifespan.shutdown()  # once only
    assert [m["type"] for m in seen] == ["lifespan.startup", "lifespan.shutdown"]


@pytest.mark.parametrize("phase", ["startup", "shutdown"])
async def test_a_failed_message_is_that_phases_lifespan_error_with_its_first_line(phase: str) -> None:
    async with running(speaks(*_answers(phase, "failed"))) as lifespan:
        with pytest.raises(LifespanError) as info:
            await start(lifespan)
            await lifespan.shutdown()
    assert info.value.phase == phase and info.value.exit_code == 70
    assert str(info.value).startswith(f"the app's lifespan {phase} failed: {phase} said no")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("phase", ["startup", "shutdown"])
async def test_an_exception_after_reading_is_that_phases_failure(phase: str) -> None:
    crashes: list[LifespanError] = []
    async with running(speaks(*_answers(phase, "raise")), on_crash=crashes.append) as lifespan:
        with pytest.raises(LifespanError, match=f"the app's lifespan {phase} failed: Boom: {phase} broke") as info:
            await start(lifespan)
            await lifespan.shutdown()
    assert info.value.phase == phase and crashes == []  # a phase's failure, not a crash while serving


@pytest.mark.parametrize(("phase", "limit"), [("startup", 5.0), ("shutdown", 3.0)])
async def test_an_overrun_is_that_phases_timeout(phase: str, limit: float,
                                                 autojump_clock: trio.testing.MockClock) -> None:
    async with running(speaks(*_answers(phase, "hang"))) as lifespan:
        if phase == "shutdown":
            await start(lifespan)
        began = trio.current_time()
        with pytest.raises(LifespanError) as info:
            await (start(lifespan) if phase == "startup" else lifespan.shutdown())
        assert trio.current_time() - began == pytest.approx(limit)
    assert str(info.value) == f"the app's lifespan {phase} did not complete within {limit:g} s (server.{phase}_timeout)"
    assert info.value.phase == phase and info.value.details["timeout"] == limit


async def test_an_infinite_startup_timeout_waits_as_long_as_it_takes(autojump_clock: trio.testing.MockClock) -> None:
    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await trio.sleep(10_000)
        await send({"type": "lifespan.startup.complete"})
        await receive()

    async with running(slow, startup_timeout=math.inf) as lifespan:
        await start(lifespan)
        assert lifespan.started and trio.current_time() >= 10_000


async def _no_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    raise Boom("only http here")  # before reading: it does not speak lifespan (Uvicorn's "auto")


async def _returns(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()  # reads, then returns without answering


async def test_auto_serves_an_app_without_lifespan_support() -> None:
    for app in (_no_lifespan, _returns):
        async with running(app, mode="auto") as lifespan:
            await start(lifespan)
            assert not lifespan.supported and not lifespan.started
            await lifespan.shutdown()  # nothing started: nothing to stop


@pytest.mark.parametrize(("app", "says"), [(_no_lifespan, "startup failed: Boom: only http here"),
                                           (_returns, "returned without answering lifespan.startup")])
async def test_on_makes_not_speaking_lifespan_an_error(app: Script, says: str) -> None:
    async with running(app, mode="on") as lifespan:
        with pytest.raises(LifespanError, match=says) as info:
            await start(lifespan)
    assert info.value.phase == "startup"


async def test_off_never_runs_the_apps_lifespan() -> None:
    async def never(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not called with lifespan off")

    async with running(never, mode="off") as lifespan:
        await start(lifespan)
        assert not lifespan.supported and not lifespan.started
        await lifespan.shutdown()


async def test_a_crash_while_serving_calls_on_crash_once_and_shutdown_is_then_a_no_op(
        autojump_clock: trio.testing.MockClock) -> None:
    crashes: list[LifespanError] = []

    async def then_crash() -> None:
        await trio.sleep(7)
        raise Boom("lost the database")

    async with running(speaks(serving=then_crash), on_crash=crashes.append) as lifespan:
        await start(lifespan)
        await trio.sleep(10)
        assert [(c.phase, str(c)) for c in crashes] == [
            ("serving", "the app's lifespan failed while serving: Boom: lost the database")]
        await lifespan.shutdown()  # reported already: no second error, no wait
        assert trio.current_time() == pytest.approx(10)
    assert len(crashes) == 1


async def test_a_clean_return_while_serving_is_no_crash() -> None:
    crashes: list[LifespanError] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})  # and returns: some apps do once started

    async with running(app, on_crash=crashes.append) as lifespan:
        await start(lifespan)
        await trio.lowlevel.checkpoint()
        await lifespan.shutdown()
    assert crashes == [] and lifespan.started


async def test_sys_exit_in_a_phase_is_its_failure() -> None:
    async def exits(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        sys.exit(3)

    async with running(exits) as lifespan:
        with pytest.raises(LifespanError, match=r"startup failed: RuntimeError: sys.exit\(3\)"):
            await start(lifespan)


async def test_an_unexpected_message_is_raised_into_the_app() -> None:
    async def wrong(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "http.response.start"})

    async with running(wrong) as lifespan:
        with pytest.raises(LifespanError, match="unexpected lifespan message 'http.response.start'"):
            await start(lifespan)


async def test_a_stop_during_startup_cancels_it(autojump_clock: trio.testing.MockClock) -> None:
    async with running(speaks(startup="hang")) as lifespan:
        with trio.move_on_after(1):
            await start(lifespan)
        assert not lifespan.started
        await lifespan.shutdown()  # a startup that never completed has no shutdown
        assert trio.current_time() == pytest.approx(1)


def test_a_finished_lifespan_leaves_no_stream_open() -> None:
    async def main() -> list[Lifespan]:
        done = []
        for mode in ("auto", "off"):
            lifespan = Lifespan(speaks(), startup_timeout=5.0, shutdown_timeout=3.0, mode=mode)
            async with anyio.create_task_group() as group:
                await lifespan.startup(group)
                await lifespan.shutdown()
            done.append(lifespan)
        return done

    finished = trio.run(main)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del finished
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
