"""The runner on MockClock with fakes: drain and fail from every state, and the drain order."""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest
import trio

from resync_fsm.errors import (
    ConfigurationValidationError,
    DependencyUnavailableError,
    StartupError,
)
from resync_fsm.probes import ProbeBoard, probe_all
from resync_fsm.runner import Event, Runner
from resync_fsm.settings import ServerSettings, Settings, StartupSettings

from ..fakes import FakeServer, ScriptedAttempts, spec

NON_FINAL = ["validating", "probing", "serving", "draining"]


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    raise AssertionError("the fake server never calls the app")


def make_runner(stall_in: str | None = None, *, drain_delay: float = 0.0, server: FakeServer | None = None,
                settings: Settings | None = None, handle_signals: bool = False) -> tuple[Runner, list[str]]:
    cleanups: list[str] = []
    settings = settings or Settings(server=ServerSettings(drain_delay=drain_delay))

    async def load() -> Settings:
        if stall_in == "validating":
            await trio.sleep_forever()
        return settings

    async def probe(board: ProbeBoard, s: Settings, deadline: float, settle: bool) -> None:
        if stall_in == "probing":
            await trio.sleep_forever()

    runner = Runner(load, probe=probe, backend=server or FakeServer(), app=app,
                    cleanup=lambda: cleanups.append("cleanup"), handle_signals=handle_signals)
    return runner, cleanups


def scripted_runner(settings: Settings, script: Callable[[str, int], str]) -> tuple[Runner, ScriptedAttempts]:
    """A runner whose probes follow ``script`` (see ScriptedAttempts), serving on a FakeServer."""
    attempts = ScriptedAttempts(script)

    async def probe(board: ProbeBoard, s: Settings, deadline: float, settle: bool) -> None:
        await probe_all(board, attempts, deadline=deadline, until_settled=settle)

    async def load() -> Settings:
        return settings

    return Runner(load, probe=probe, backend=FakeServer(), app=app, handle_signals=False), attempts


@pytest.mark.parametrize("state", NON_FINAL)
async def test_drain_in_each_state_ends_stopped(state: str, autojump_clock: trio.abc.Clock) -> None:
    runner, cleanups = make_runner(stall_in=state, drain_delay=100.0 if state == "draining" else 0.0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        if state == "draining":
            await runner.wait_for_state("serving")
            runner.request_drain(signal.SIGTERM)
        await runner.wait_for_state(state)
        runner.request_drain(signal.SIGINT, force=True)
    assert runner.state == "stopped"
    assert cleanups == ["cleanup"] and runner.cleanups_run == 1
    # a second signal while draining forces the stop: 128 + its number
    assert runner.exit_code == (128 + signal.SIGINT if state == "draining" else 0)
    assert [m.dest for m in runner.lifecycle.history][-1] == "stopped"


@pytest.mark.parametrize("state", NON_FINAL)
@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigurationValidationError("bad", {}), 78),
        (DependencyUnavailableError("down", "db", {}), 69),
        (StartupError("broken", {}), 70),
        (RuntimeError("bug"), 70),
    ],
)
async def test_fail_in_each_state_ends_failed(
    state: str, error: Exception, code: int, autojump_clock: trio.abc.Clock
) -> None:
    runner, cleanups = make_runner(stall_in=state, drain_delay=100.0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        if state == "draining":
            await runner.wait_for_state("serving")
            runner.request_drain()
        await runner.wait_for_state(state)
        runner.fail(error)
    assert runner.state == "failed"
    assert runner.exit_code == code
    assert runner.error is error
    assert cleanups == ["cleanup"]
    line = runner.failure_line()
    assert line is not None and "\n" not in line


async def test_load_error_fails_with_78(autojump_clock: trio.abc.Clock) -> None:
    async def load() -> Settings:
        raise ConfigurationValidationError("1 configuration problem: x: bad", {})

    runner = Runner(load, handle_signals=False)
    assert await runner.run() == 78
    assert [m.dest for m in runner.lifecycle.history] == ["validating", "failed"]


async def test_critical_probe_failure_fails_with_69(autojump_clock: trio.abc.Clock) -> None:
    settings = Settings(startup=StartupSettings(timeout=2.0), probes=(spec("db"),))
    runner, attempts = scripted_runner(settings, lambda name, n: "refused")
    start = trio.current_time()
    assert await runner.run() == 69
    assert trio.current_time() - start <= 2.0
    assert isinstance(runner.error, DependencyUnavailableError) and runner.error.dependency == "db"
    assert "refused" in (runner.failure_line() or "")


async def test_drain_order(autojump_clock: trio.abc.Clock) -> None:
    """readiness false at once → listener open for drain_delay → trigger → in-flight ends → stopped."""
    server = FakeServer(linger=0.5)
    runner, _ = make_runner(drain_delay=1.0, server=server)
    seen: list[tuple[str, float]] = []
    runner.listeners.append(lambda move: seen.append((move.dest, trio.current_time())))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        assert runner.ready() == (True, "serving")
        t0 = trio.current_time()
        runner.request_drain()
        await runner.wait_for_state("draining")
        assert runner.ready() == (False, "draining")
        assert runner.live() == (True, "draining")
    closed = dict(server.events)["listener_closed"]
    stopped_at = dict(seen)["stopped"]
    assert closed - t0 == pytest.approx(1.0)
    assert dict(server.events)["stopped"] - t0 == pytest.approx(1.5)
    assert stopped_at - t0 == pytest.approx(1.5)
    assert runner.exit_code == 0


async def test_server_start_failure_is_a_startup_error(autojump_clock: trio.abc.Clock) -> None:
    runner, cleanups = make_runner(server=FakeServer(fail_with=StartupError("cannot bind x: address in use")))
    assert await runner.run() == 70
    assert runner.failure_line() == "StartupError: cannot bind x: address in use"
    assert cleanups == ["cleanup"]


async def test_event_illegal_in_state_is_ignored(autojump_clock: trio.abc.Clock) -> None:
    runner, _ = make_runner(stall_in="probing")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("probing")
        runner.post(Event("drained"))
        await trio.testing.wait_all_tasks_blocked()
        assert runner.state == "probing"
        runner.request_drain()
    assert runner.state == "stopped"


async def test_drain_requested_before_run_is_applied(autojump_clock: trio.abc.Clock) -> None:
    runner, cleanups = make_runner()
    runner.request_drain()
    assert await runner.run() == 0
    assert [m.dest for m in runner.lifecycle.history] == ["validating", "draining", "stopped"]
    assert cleanups == ["cleanup"]


async def test_no_fail_fast_serves_not_ready_until_probes_pass(autojump_clock: trio.abc.Clock) -> None:
    settings = Settings(startup=StartupSettings(timeout=1.0, fail_fast=False), probes=(spec("db"),))
    runner, attempts = scripted_runner(settings, lambda name, n: "ok" if n >= 8 else "refused")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        assert runner.ready() == (False, "serving")
        passed = trio.Event()
        runner.board.listeners.append(lambda result: result.ok and passed.set())
        with trio.fail_after(30):
            await passed.wait()
        await trio.testing.wait_all_tasks_blocked()
        assert runner.ready() == (True, "serving")
        assert runner.board.results["db"].attempts == 8
        runner.request_drain()
    assert runner.exit_code == 0


async def test_watch_mode_turns_readiness_false_and_back(autojump_clock: trio.abc.Clock) -> None:
    # passes at boot; rounds 2 and 3 of the watch fail; it passes again from round 4
    rounds: list[float] = []

    def script(name: str, n: int) -> str:
        return "refused" if len(rounds) in (2, 3) else "ok"

    attempts = ScriptedAttempts(script)

    async def probe(board: ProbeBoard, s: Settings, deadline: float, settle: bool) -> None:
        rounds.append(trio.current_time())
        await probe_all(board, attempts, deadline=deadline, until_settled=settle)

    settings = Settings(server=ServerSettings(watch_interval=5.0), probes=(spec("db", timeout=1.0),))

    async def load() -> Settings:
        return settings

    runner = Runner(load, probe=probe, backend=FakeServer(), app=app, handle_signals=False)
    readiness: list[tuple[int, bool]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        start = trio.current_time()
        # Round 1 is probing itself. The watch sleeps 5 s after each round; a failing round
        # retries for its 1 s timeout: rounds start at about 5, 11, 17 and 22 s.
        for at in (2.5, 8.5, 14.5, 19.5):
            await trio.sleep_until(start + at)
            readiness.append((len(rounds), runner.ready()[0]))
            assert runner.live() == (True, "serving")  # liveness never follows dependencies
        runner.request_drain()
    assert readiness == [(1, True), (2, False), (3, False), (4, True)]


async def test_drain_budget_warning(autojump_clock: trio.abc.Clock) -> None:
    over = Settings(server=ServerSettings(drain_delay=10, graceful_timeout=25, shutdown_timeout=10,
                                          termination_grace=30))
    assert len(over.warnings()) == 1 and "45 s exceeds termination_grace = 30 s" in over.warnings()[0]
    assert Settings(server=ServerSettings(termination_grace=60)).warnings() == []
    assert Settings().warnings() == []


def test_embedded_off_the_main_thread_handles_no_signals_but_drains_on_request() -> None:
    import threading

    import structlog

    runner, cleanups = make_runner(handle_signals=True)  # as a host would leave it
    codes: list[int] = []
    serving = threading.Event()
    runner.listeners.append(lambda move: move.dest == "serving" and serving.set())
    with structlog.testing.capture_logs() as logs:
        thread = threading.Thread(target=lambda: codes.append(trio.run(runner.run)))
        thread.start()
        assert serving.wait(10)
        runner.request_drain_from_thread()
        thread.join(10)
    assert codes == [0] and cleanups == ["cleanup"]
    assert any(entry["event"] == "signals_not_handled" for entry in logs)


async def test_failed_noncritical_probes_keep_retrying_while_serving(autojump_clock: trio.abc.Clock) -> None:
    settings = Settings(probes=(spec("db"), spec("cache", critical=False)))
    runner, attempts = scripted_runner(settings, lambda name, n: "ok" if name == "db" or n >= 4 else "refused")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        assert runner.board.results["cache"].status == "fail"
        assert runner.ready() == (True, "serving")  # never held up by "cache"
        await trio.sleep(10)
        assert runner.board.results["cache"].ok and runner.board.results["cache"].attempts == 4
        assert len(attempts.times("db")) == 1  # what passed is not probed again
        runner.request_drain()
    assert runner.exit_code == 0


async def test_freeze_gc_while_serving_and_unfreeze_on_stop(autojump_clock: trio.abc.Clock) -> None:
    import gc

    async def load() -> Settings:
        return Settings()

    runner = Runner(load, backend=FakeServer(), app=app, handle_signals=False, freeze_gc=True)
    assert gc.get_freeze_count() == 0
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        assert gc.get_freeze_count() > 0
        runner.request_drain()
    assert gc.get_freeze_count() == 0
