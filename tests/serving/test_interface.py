"""The capabilities are runtime-checkable protocols: a server has one exactly when it has its methods."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from resync_fsm.serving.hypercorn import HypercornServer
from resync_fsm.serving.interface import (
    Abortable,
    FollowsView,
    ImportsAppElsewhere,
    ListsWorkers,
    Reloadable,
    ReportsReloads,
    Supervisor,
)
from resync_fsm.serving.loop_bridge import TrioBridge
from resync_fsm.serving.uvicorn.server import UvicornServer
from resync_fsm.serving.workers import WorkerPool, workers_engine
from resync_fsm.settings import ServerSettings, Settings
from resync_fsm.web.health import HealthWrapper

from ..fakes import FakeServer, FakeView

CAPABILITIES = (Abortable, Reloadable, FollowsView, ListsWorkers, ReportsReloads, Supervisor)


class Aborts(FakeServer):
    def abort(self) -> None:
        pass


class Reloads(FakeServer):
    async def reload(self) -> None:
        pass


class Follows(FakeServer):
    def view_changed(self) -> None:
        pass

    async def view_delivered(self) -> None:
        pass


class Lists(FakeServer):
    def workers(self) -> list[dict[str, Any]]:
        return []


class ReportsReload(FakeServer):
    def reload_status(self) -> dict[str, Any] | None:
        return None


class Supervises(Reloads, Follows, Lists, ReportsReload):
    pass


def capabilities(server: object) -> set[str]:
    return {c.__name__ for c in CAPABILITIES if isinstance(server, c)}


@pytest.mark.parametrize(("server", "has"), [
    (FakeServer(), set()),
    (Aborts(), {"Abortable"}),
    (Reloads(), {"Reloadable"}),
    (Follows(), {"FollowsView"}),
    (Lists(), {"ListsWorkers"}),
    (ReportsReload(), {"ReportsReloads"}),
    (Supervises(), {"Reloadable", "FollowsView", "ListsWorkers", "ReportsReloads", "Supervisor"}),
])
def test_a_fake_has_the_capabilities_of_its_methods(server: object, has: set[str]) -> None:
    assert capabilities(server) == has


def test_a_supervisor_needs_all_three() -> None:
    class ReloadsAndFollows(Reloads, Follows):
        pass

    assert not isinstance(ReloadsAndFollows(), Supervisor)


def _wrapper() -> HealthWrapper:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    return HealthWrapper(app, FakeView())


def test_the_real_servers_have_the_capabilities_the_runner_relies_on() -> None:
    def on_fault(error: BaseException) -> None:
        pass

    trio_settings = Settings(server=ServerSettings(loop="trio"))
    assert capabilities(HypercornServer(_wrapper(), trio_settings, on_fault, TrioBridge())) == {"Abortable"}
    assert capabilities(UvicornServer(_wrapper(), Settings(), on_fault, TrioBridge())) == set()
    pool = WorkerPool(_wrapper(), Settings(server=ServerSettings(workers=2)), on_fault)
    assert capabilities(pool) == {"Reloadable", "FollowsView", "ListsWorkers", "ReportsReloads", "Supervisor"}


def test_an_engine_says_it_imports_the_app_elsewhere_by_its_imports_app_attribute() -> None:
    class Says:
        imports_app: Literal[False] = False

        def __call__(self, *args: Any) -> None:
            pass

    def plain(*args: Any) -> None:
        pass

    assert isinstance(Says(), ImportsAppElsewhere) and isinstance(workers_engine, ImportsAppElsewhere)
    assert not isinstance(plain, ImportsAppElsewhere)
