"""compose(): one serving composed in one place (the app loaded once, wrapped once, the engine built over the
health wrapper), with fake engines instead of real servers."""

from __future__ import annotations

import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any, Literal

import pytest
import trio

from resync_fsm.app import app as builtin_app
from resync_fsm.errors import StartupError
from resync_fsm.serving.compose import Serving, compose
from resync_fsm.serving.interface import ImportsAppElsewhere, OnFault
from resync_fsm.settings import ServerSettings, Settings
from resync_fsm.web.asgi import ASGIApp, Receive, Scope, Send
from resync_fsm.web.health import HealthWrapper

from ..fakes import FakeView

# the package's ``compose`` is the function; the module is only reachable through sys.modules
compose_module = sys.modules["resync_fsm.serving.compose"]


class RecordingServer:
    """What a fake engine builds: the arguments it was given."""

    drain_budget = 0.0

    def __init__(self, wrapper: HealthWrapper, settings: Settings, on_fault: OnFault) -> None:
        self.wrapper, self.settings, self.on_fault = wrapper, settings, on_fault

    async def serve(self, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        raise AssertionError("not served here")

    def shutdown(self) -> None:
        raise AssertionError("not served here")


class Elsewhere:
    """An engine whose processes import the app themselves (as the worker supervisor's)."""

    imports_app: Literal[False] = False

    def __call__(self, wrapper: HealthWrapper, settings: Settings, on_fault: OnFault) -> RecordingServer:
        return RecordingServer(wrapper, settings, on_fault)


def settings(app: str = "resync_fsm.app:app", **server: Any) -> Settings:
    return Settings(server=ServerSettings(app=app, **server))


def fault(error: BaseException) -> None:
    raise AssertionError(f"no fault expected: {error}")


@pytest.fixture
def app_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module ``composed_app_<n>`` in tmp_path with an ASGI ``app``; sys.path and sys.modules restored."""
    name = f"composed_app_{abs(hash(tmp_path)) % 10**8}"
    (tmp_path / f"{name}.py").write_text("async def app(scope, receive, send):\n    pass\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield name
    sys.modules.pop(name, None)


def test_the_app_is_loaded_from_server_app(app_module: str, tmp_path: Path) -> None:
    composed = compose(settings(f"{app_module}:app", app_dir=str(tmp_path)), FakeView(), fault,
                       engine=RecordingServer)
    assert composed.wrapper.app is sys.modules[app_module].app


def test_a_module_that_does_not_import_is_a_startup_error_naming_it() -> None:
    with pytest.raises(StartupError, match="no_such_module_for_compose") as info:
        compose(settings("no_such_module_for_compose:app"), FakeView(), fault, engine=RecordingServer)
    assert info.value.exit_code == 70 and info.value.details == {"app": "no_such_module_for_compose:app"}


def test_the_engine_is_given_the_wrapper_the_settings_and_on_fault() -> None:
    given = settings()
    composed = compose(given, FakeView(), fault, engine=RecordingServer)
    server = composed.server
    assert isinstance(server, RecordingServer)
    assert server.wrapper is composed.wrapper and server.settings is given and server.on_fault is fault
    assert isinstance(composed, Serving)


def test_an_app_given_is_wrapped_without_loading(app_module: str) -> None:
    async def mine(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    composed = compose(settings("no_such_module_for_compose:app"), FakeView(), fault, engine=RecordingServer,
                       app=mine)
    assert composed.wrapper.app is mine


def test_wrap_app_is_called_once_on_the_loaded_app_and_its_result_is_served() -> None:
    seen: list[ASGIApp] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        seen.append(app)

        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            await app(scope, receive, send)

        return counted

    composed = compose(settings(), FakeView(), fault, engine=RecordingServer, wrap_app=wrap)
    assert seen == [builtin_app]
    assert composed.wrapper.app is not builtin_app
    assert composed.wrapper.app.__name__ == "counted"


def test_the_builtin_app_stays_public_when_wrapped() -> None:
    """public_status is decided on the app as loaded, not on what wrap_app made of it (a worker's counter)."""
    wrapped = compose(settings(), FakeView(), fault, engine=RecordingServer, wrap_app=lambda app: lambda *a: app(*a))
    assert wrapped.wrapper.public_status is True
    assert compose(settings(), FakeView(), fault, engine=RecordingServer).wrapper.public_status is True


def test_another_app_keeps_status_off_the_public_listeners(app_module: str, tmp_path: Path) -> None:
    composed = compose(settings(f"{app_module}:app", app_dir=str(tmp_path)), FakeView(), fault,
                       engine=RecordingServer)
    assert composed.wrapper.public_status is False
    exposed = compose(settings(f"{app_module}:app", app_dir=str(tmp_path), expose_status=True), FakeView(), fault,
                      engine=RecordingServer)
    assert exposed.wrapper.public_status is True


def test_without_an_engine_the_one_engine_for_picks_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Settings] = []

    def engine_for(given: Settings) -> type[RecordingServer]:
        asked.append(given)
        return RecordingServer

    monkeypatch.setattr(compose_module, "engine_for", engine_for)
    given = settings()
    composed = compose(given, FakeView(), fault)
    assert asked == [given] and isinstance(composed.server, RecordingServer)


def test_the_default_engine_for_trio_is_hypercorn() -> None:
    from resync_fsm.serving.hypercorn import HypercornServer

    composed = compose(settings(loop="trio"), FakeView(), fault)
    assert isinstance(composed.server, HypercornServer) and composed.server.app is composed.wrapper


async def test_an_engine_that_imports_the_app_elsewhere_gets_a_wrapper_around_no_app() -> None:
    engine = Elsewhere()
    assert isinstance(engine, ImportsAppElsewhere)
    # the app named would not even import here: the processes import it, not this one
    composed = compose(settings("no_such_module_for_compose:app"), FakeView(), fault, engine=engine)
    assert isinstance(composed.server, RecordingServer)
    with pytest.raises(RuntimeError, match="served by worker processes"):
        await composed.wrapper.app({"type": "http"}, _never_receive, _never_send)


def test_management_urls_are_empty_until_the_server_reports_its_listeners() -> None:
    composed = compose(settings(), FakeView(), fault, engine=RecordingServer)
    assert composed.management_urls == []
    composed.wrapper.management_listening([("127.0.0.1", 9001)], ["http://127.0.0.1:9001"])
    assert composed.management_urls == ["http://127.0.0.1:9001"]


def test_the_health_wrapper_follows_the_server_settings() -> None:
    composed = compose(settings(management_bind=["127.0.0.1:0"], limit_concurrency=3), FakeView(), fault,
                       engine=RecordingServer)
    wrapper = composed.wrapper
    assert wrapper.limit == 3
    assert wrapper.public_status is False  # a management listener: the status page lives there


async def _never_receive() -> dict[str, Any]:
    raise AssertionError("not read")


async def _never_send(message: MutableMapping[str, Any]) -> None:
    raise AssertionError("not sent")
