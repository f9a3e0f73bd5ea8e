"""Draining on MockClock with a fake backend: a stop during the app's startup, a fault while serving,
a drain that overruns its budget, and repeated stops (issue 12)."""

from __future__ import annotations

import signal

import pytest
import trio

from resync_fsm.errors import LifespanError
from resync_fsm.runner import Runner
from resync_fsm.runner.draining import MARGIN
from resync_fsm.settings import ServerSettings, Settings

from ..fakes import FakeServer


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    raise AssertionError("the fake server never calls the app")


def runner_with(server: FakeServer, **server_settings: float) -> Runner:
    settings = Settings(server=ServerSettings(**server_settings))

    async def load() -> Settings:
        return settings

    return Runner(load, backend=server, app=app, handle_signals=False)


async def test_a_stop_during_the_apps_startup_cancels_it_and_ends_stopped(autojump_clock: trio.abc.Clock) -> None:
    server = FakeServer(startup=60.0)
    runner = runner_with(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.sleep(1.0)  # the app is starting
        asked = trio.current_time()
        runner.request_drain(signal.SIGTERM)
    assert runner.state == "stopped" and runner.exit_code == 0
    assert [name for name, _ in server.events] == ["startup_cancelled"]  # never listening
    assert trio.current_time() - asked < 0.5
    assert runner.binds == [] and runner.failure_line() is None


async def test_a_fault_while_serving_drains_then_fails(autojump_clock: trio.abc.Clock) -> None:
    server = FakeServer(linger=2.0)
    runner = runner_with(server, drain_delay=1.0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        t0 = trio.current_time()
        assert server.on_fault is not None
        server.on_fault(LifespanError("the app's lifespan failed while serving: RuntimeError: gone", "serving"))
        await runner.wait_for_state("draining")
        assert runner.ready() == (False, "draining")
    assert [m.dest for m in runner.lifecycle.history][-2:] == ["draining", "failed"]
    assert dict(server.events)["stopped"] - t0 == pytest.approx(3.0)  # drain_delay, then in-flight work
    assert runner.exit_code == 70
    assert runner.failure_line() == "LifespanError: the app's lifespan failed while serving: RuntimeError: gone"


async def test_a_failed_lifespan_shutdown_fails_with_70(autojump_clock: trio.abc.Clock) -> None:
    server = FakeServer(fail_on_stop=LifespanError("the app's lifespan shutdown failed: pool busy", "shutdown"))
    runner = runner_with(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        runner.request_drain()
    assert runner.state == "failed" and runner.exit_code == 70
    assert runner.failure_line() == "LifespanError: the app's lifespan shutdown failed: pool busy"


async def test_a_drain_that_overruns_its_budget_is_cut(autojump_clock: trio.abc.Clock) -> None:
    server = FakeServer(linger=1000.0, budget=5.0)  # a client that never reads, say
    runner = runner_with(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        t0 = trio.current_time()
        runner.request_drain()
    assert runner.state == "stopped" and runner.exit_code == 0
    assert trio.current_time() - t0 == pytest.approx(5.0 + MARGIN)


async def test_a_repeated_graceful_stop_stays_graceful_and_a_forced_one_stops(
    autojump_clock: trio.abc.Clock,
) -> None:
    server = FakeServer(linger=10.0)
    runner = runner_with(server, drain_delay=2.0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        runner.request_drain(signal.SIGTERM)
        await runner.wait_for_state("draining")
        runner.request_drain(signal.SIGTERM)  # a process manager repeating itself
        await trio.sleep(1.0)
        assert runner.state == "draining"
        runner.request_drain(signal.SIGINT, force=True)
    assert runner.state == "stopped" and runner.exit_code == 128 + signal.SIGINT
    assert "Stopped by SIGINT while draining" in (runner.failure_line() or "")
