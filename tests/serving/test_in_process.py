"""What every in-process engine's server shares (InProcessServer): the shutdown request carried to the app's
loop, whenever it comes; the management listeners reported before anything is served; the app's lifespan."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import trio
import trio.testing

from resync_fsm.errors import LifespanError
from resync_fsm.serving.binding import close_all, merged
from resync_fsm.serving.in_process import InProcessServer
from resync_fsm.serving.loop_bridge import TrioBridge
from resync_fsm.settings import ServerSettings, Settings
from resync_fsm.web.asgi import Receive, Scope, Send
from resync_fsm.web.health import HealthWrapper

from ..fakes import FakeView


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("not served here")


class RecordingWrapper(HealthWrapper):
    """The health wrapper, recording when the server said its listener closes."""

    closing: list[str]

    def listener_closing(self) -> None:
        self.closing.append("listener_closing")
        super().listener_closing()


class QueuedBridge(TrioBridge):
    """A bridge whose ``call`` runs only when the app's loop gets to it (``run_pending``), as asyncio's does."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []

    def call(self, fn: Callable[[], None]) -> None:
        self.pending.append(fn)

    def run_pending(self) -> None:
        while self.pending:
            self.pending.pop(0)()


class Engine(InProcessServer):
    """An engine's server as Hypercorn's and Uvicorn's are made: its own trigger, set by ``_stop_now``, made
    when it starts serving and set at once if a stop was requested before."""

    drain_budget = 0.0
    trigger: trio.Event | None = None
    stops: list[str]

    async def serve(self, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        async def on_app_loop() -> None:
            self.trigger = trio.Event()
            if self._stop_requested:
                self.trigger.set()
            task_status.started([])
            await self.trigger.wait()

        await self._run_on_app_loop(on_app_loop)  # as the real engines do: the stop is carried there

    def _stop_now(self) -> None:
        self.stops.append("stop_now")
        if self.trigger is not None:
            self.trigger.set()


def engine(settings: Settings | None = None, bridge: TrioBridge | None = None,
           on_fault: Callable[[BaseException], None] | None = None) -> Engine:
    wrapper = RecordingWrapper(app, FakeView())
    wrapper.closing = []
    server = Engine(wrapper, settings or Settings(), on_fault or (lambda error: None), bridge or TrioBridge())
    server.stops = []
    return server


def calls(server: Engine) -> list[str]:
    assert isinstance(server.app, RecordingWrapper)
    return [*server.app.closing, *server.stops]


async def test_a_shutdown_before_serve_is_kept_for_it(autojump_clock: trio.testing.MockClock) -> None:
    server = engine()
    server.shutdown()
    assert server._stop_requested and calls(server) == []  # carried to the app's loop once it serves
    with trio.fail_after(1):
        await server.serve()  # returns at once: the stop was requested before it began


async def test_a_shutdown_while_serving_closes_the_listener_then_stops_the_server(
        autojump_clock: trio.testing.MockClock) -> None:
    server = engine()
    with trio.fail_after(1):  # serve returns once shut down
        async with trio.open_nursery() as nursery:
            await nursery.start(server.serve)
            assert calls(server) == []
            server.shutdown()
    assert calls(server) == ["listener_closing", "stop_now"]  # websockets get their 1001 first


async def test_the_stop_runs_on_the_apps_loop_and_is_requested_at_once() -> None:
    bridge = QueuedBridge()
    server = engine(bridge=bridge)
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve)
        server.shutdown()
        assert server._stop_requested and calls(server) == []  # a serve starting now sees it
        await trio.testing.wait_all_tasks_blocked()
        assert calls(server) == []  # asked on the app's loop, not yet run there
        bridge.run_pending()
        assert calls(server) == ["listener_closing", "stop_now"]


async def test_bind_reports_the_management_listeners_before_serving(tmp_path: Path) -> None:
    sock = f"unix:{tmp_path}/manage.sock"
    server = engine(Settings(server=ServerSettings(bind=["127.0.0.1:0"], management_bind=["127.0.0.1:0", sock])))
    public, management = server._bind()
    try:
        port = management.insecure[0].getsockname()[1]
        assert server.app.management.urls == [f"http://127.0.0.1:{port}", sock]
        assert server.app.management.is_management({"server": ("127.0.0.1", port)})
        assert server.app.management.is_management({"server": (sock[5:], None)})
        public_port = public.insecure[0].getsockname()[1]
        assert not server.app.management.is_management({"server": ("127.0.0.1", public_port)})
    finally:
        close_all(merged(public, management))


async def test_without_management_listeners_none_is_reported() -> None:
    server = engine(Settings(server=ServerSettings(bind=["127.0.0.1:0"])))
    public, management = server._bind()
    close_all(merged(public, management))
    assert management.sockets == [] and server.app.management.urls == [] and not server.app.management


async def test_the_lifespan_runs_the_app_itself_with_the_settings_timeouts_and_mode() -> None:
    server = engine(Settings(server=ServerSettings(startup_timeout=7, shutdown_timeout=4, lifespan="on")))
    lifespan = server._lifespan()
    assert lifespan.app is app and not isinstance(lifespan.app, HealthWrapper)
    assert (lifespan.startup_timeout, lifespan.shutdown_timeout, lifespan.mode) == (7.0, 4.0, "on")
    default = engine()._lifespan()
    assert default.startup_timeout == 60.0 and default.mode == "auto" and math.isfinite(default.shutdown_timeout)


async def test_a_crash_while_serving_reaches_on_fault_on_the_trio_side() -> None:
    faults: list[BaseException] = []
    server = engine(on_fault=faults.append)
    lifespan = server._lifespan()
    assert lifespan.on_crash is not None
    error = LifespanError("the app's lifespan failed while serving: Boom", "serving")
    lifespan.on_crash(error)
    assert faults == [error]

