"""One worker process as the supervisor sees it: its settings, how its exit is described, its state."""

from __future__ import annotations

import signal

import attrs
import pytest
import trio
import trio.testing

from resync_fsm.serving.workers import process
from resync_fsm.serving.workers.process import Worker, describe_exit, first_of, worker_settings
from resync_fsm.settings import ServerSettings, Settings
from resync_fsm.settings.model import TLSSettings


def test_a_worker_serves_in_process_on_the_inherited_descriptors() -> None:
    settings = Settings(server=ServerSettings(bind=["127.0.0.1:0", "unix:/tmp/app.sock"], workers=4,
                                              engine="uvicorn", graceful_timeout=9, max_requests=100),
                        tls=TLSSettings(ciphers="ECDHE+CHACHA20"))
    mine = worker_settings(settings, [7, 9])
    assert mine.server.bind == ("fd://7", "fd://9") and mine.server.workers == 1
    others = {a.name for a in attrs.fields(ServerSettings)} - {"bind", "workers"}
    assert {name: getattr(mine.server, name) for name in others} == {
        name: getattr(settings.server, name) for name in others}
    assert mine.tls == settings.tls and mine.log == settings.log and mine.probes == settings.probes
    assert settings.server.workers == 4  # the supervisor's settings are left as they were


@pytest.mark.parametrize(("code", "described"), [
    (0, "exit code 0"),
    (3, "exit code 3"),
    (70, "exit code 70"),
    (-signal.SIGKILL, "signal SIGKILL"),
    (-signal.SIGTERM, "signal SIGTERM"),
    (-signal.SIGSEGV, "signal SIGSEGV"),
    (-200, "signal 200"),  # no such signal name
])
def test_describe_exit_names_the_code_or_the_signal(code: int, described: str) -> None:
    assert describe_exit(code) == described


async def test_first_of_returns_once_any_event_is_set(autojump_clock: trio.testing.MockClock) -> None:
    first, second, never = trio.Event(), trio.Event(), trio.Event()

    async def set_later(event: trio.Event, delay: float) -> None:
        await trio.sleep(delay)
        event.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(set_later, second, 3)
        nursery.start_soon(set_later, first, 5)
        await first_of(first, second, never)
        assert trio.current_time() == 3 and not first.is_set()
    already = trio.Event()
    already.set()
    await first_of(never, already)  # set before: at once


def test_a_worker_not_yet_started_has_no_pid_and_its_state_follows_its_flags() -> None:
    worker = Worker(slot=1, generation=2, limit=0)
    worker.kill()  # nothing to kill yet
    assert worker.pid is None and worker.state() == "starting"
    worker.ready.set()
    worker.requests = 12
    assert worker.state() == "serving"
    status = worker.as_status(restarts=3, counted={})
    assert {k: v for k, v in status.items() if k != "uptime"} == {
        "pid": None, "generation": 2, "slot": 1, "state": "serving", "requests": 12, "in_flight": 0, "restarts": 3}
    assert 0 <= status["uptime"] < 60
    worker.retiring = True
    assert worker.state() == "retiring"


def test_the_worker_environment_leaves_out_notify_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    monkeypatch.setenv("KEPT_FOR_THE_WORKER", "1")
    env = process._child_env()
    assert "NOTIFY_SOCKET" not in env and env["KEPT_FOR_THE_WORKER"] == "1"  # NotifyAccess=main
