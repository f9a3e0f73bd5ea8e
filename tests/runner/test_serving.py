"""ServerHandle: a server's lifetime under a real Runner, on MockClock with a tiny fake server (DESIGN §5)."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from resync_fsm.errors import StartupError
from resync_fsm.notify import Notifier
from resync_fsm.runner import Runner
from resync_fsm.runner.serving import ServerHandle
from resync_fsm.settings import ServerSettings, Settings

from ..fakes import FakeServer, spec
from .test_core import scripted_runner

URLS = ["http://127.0.0.1:8000", "unix:/run/app.sock"]


async def app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the fake server never calls the app")


class GatedServer:
    """Listens when the test sets ``listen``; records ``serve``, ``listening``, ``shutdown``, ``abort`` and
    ``cancelled`` in order. ``returns_unasked``: serve returns once listening, with no shutdown."""

    def __init__(self, *, returns_unasked: bool = False, fail_with: Exception | None = None) -> None:
        self.listen = trio.Event()
        self.stop = trio.Event()
        self.returns_unasked = returns_unasked
        self.fail_with = fail_with
        self.calls: list[str] = []

    def __call__(self, app: Any, settings: Settings, on_fault: Any) -> GatedServer:
        return self

    @property
    def drain_budget(self) -> float:
        return 1.0

    async def serve(self, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        self.calls.append("serve")
        try:
            await self.listen.wait()
            if self.fail_with is not None:
                raise self.fail_with
            self.calls.append("listening")
            task_status.started(URLS)
            if not self.returns_unasked:
                await self.stop.wait()
        except trio.Cancelled:
            self.calls.append("cancelled")
            raise

    def shutdown(self) -> None:
        self.calls.append("shutdown")
        self.stop.set()

    def abort(self) -> None:
        self.calls.append("abort")


class RecordingNotifier(Notifier):
    """A notifier whose every message is kept in ``sent`` instead of going to a socket."""

    def __init__(self) -> None:
        super().__init__({})
        self.sent: list[str] = []

    def send(self, message: str) -> None:
        self.sent.append(message)


def make_runner(server: Any) -> tuple[Runner, RecordingNotifier]:
    settings = Settings(server=ServerSettings(drain_delay=0.0))

    async def load() -> Settings:
        return settings

    notifier = RecordingNotifier()
    return Runner(load, backend=server, app=app, notifier=notifier, handle_signals=False), notifier


async def test_started_and_ready_only_once_the_server_is_listening(autojump_clock: trio.abc.Clock) -> None:
    server = GatedServer()
    runner, notifier = make_runner(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.sleep(10)  # the app takes its time to start: nothing says ready meanwhile
        handle = runner.server
        assert handle is not None and server.calls == ["serve"]
        assert (handle.started, handle.urls, runner.binds) == (False, [], [])
        assert runner.ready() == (False, "serving")
        assert not any("READY=1" in m for m in notifier.sent)

        server.listen.set()
        await trio.testing.wait_all_tasks_blocked()
        assert (handle.started, handle.urls, runner.binds) == (True, URLS, URLS)
        assert runner.ready() == (True, "serving")
        assert [m for m in notifier.sent if "READY=1" in m] == ["READY=1\nSTATUS=serving"]
        assert notifier.sent.index("READY=1\nSTATUS=serving") > notifier.sent.index("STATUS=serving")

        runner.request_drain()
    assert runner.exit_code == 0 and runner.state == "stopped"
    assert server.calls[:3] == ["serve", "listening", "shutdown"]  # asked, it returned: not cancelled
    assert "cancelled" not in server.calls
    assert handle.done.is_set() and handle.shutdown_requested
    assert notifier.sent[-2:] == ["STOPPING=1\nSTATUS=draining", "STATUS=stopped"]


async def test_a_server_that_stops_unasked_fails_the_run(autojump_clock: trio.abc.Clock) -> None:
    server = GatedServer(returns_unasked=True)
    server.listen.set()
    runner, notifier = make_runner(server)
    with trio.fail_after(60):
        code = await runner.run()
    assert (code, runner.state) == (70, "failed")
    assert isinstance(runner.error, StartupError)
    assert "stopped without being asked" in str(runner.error)
    assert "shutdown" not in server.calls
    assert runner.server is not None and runner.server.done.is_set()


async def test_a_server_error_before_listening_fails_the_run(autojump_clock: trio.abc.Clock) -> None:
    error = StartupError("cannot bind 127.0.0.1:8000: address already in use", {})
    server = GatedServer(fail_with=error)
    server.listen.set()
    runner, notifier = make_runner(server)
    with trio.fail_after(60):
        assert await runner.run() == 70
    assert runner.error is error
    assert runner.server is not None and not runner.server.started
    assert "abort" not in server.calls  # a server that never listened has no connection to cut
    assert not any("READY=1" in m for m in notifier.sent)


@pytest.mark.parametrize("listening", [False, True], ids=["starting", "listening"])
async def test_a_final_state_aborts_only_a_started_server(listening: bool, autojump_clock: trio.abc.Clock) -> None:
    server = GatedServer()
    runner, _ = make_runner(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        if listening:
            server.listen.set()
        await trio.testing.wait_all_tasks_blocked()
        runner.fail(RuntimeError("the watchdog says the app is stuck"))
    assert runner.state == "failed"
    assert runner.server is not None
    await runner.server.done.wait()  # cancelled at once, not left running
    if listening:
        assert server.calls == ["serve", "listening", "abort", "cancelled"]  # cut first, then cancelled
    else:
        assert server.calls == ["serve", "cancelled"]


async def test_a_server_without_abort_is_just_cancelled(autojump_clock: trio.abc.Clock) -> None:
    server = FakeServer(linger=100.0)  # no abort(): the optional half of the interface
    runner, _ = make_runner(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        assert runner.server is not None and runner.server.started
        runner.fail(RuntimeError("bug"))
    assert runner.exit_code == 70
    await runner.server.done.wait()
    assert [name for name, _ in server.events] == ["listening"]


async def test_a_graceful_stop_never_aborts(autojump_clock: trio.abc.Clock) -> None:
    server = GatedServer()
    server.listen.set()
    runner, _ = make_runner(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        runner.request_drain()
    assert runner.exit_code == 0
    assert server.calls == ["serve", "listening", "shutdown"]


def test_cancel_before_running_never_aborts() -> None:
    server = GatedServer()
    handle = ServerHandle(server)
    handle.cancel()
    assert server.calls == [] and not handle.started and not handle.shutdown_requested


async def test_a_non_critical_dependency_down_for_an_hour_never_fails_the_service(
    autojump_clock: trio.abc.Clock,
) -> None:
    settings = Settings(probes=(spec("cache", critical=False),))
    runner, attempts = scripted_runner(settings, lambda name, n: "refused")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.sleep(3600)
        assert runner.state == "serving", runner.error
        runner.request_drain()
    assert runner.exit_code == 0
    assert len(attempts.times("cache")) > 1800  # at most 2.01 s apart (DESIGN §4): past the 1025th failure
