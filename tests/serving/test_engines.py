"""Where an engine plugs in: the factory for the settings, by import string, imported only when selected."""

from __future__ import annotations

import subprocess
import sys

import pytest

from resync_fsm.serving.engines import ENGINES, engine_for, imports_app, load_engine
from resync_fsm.settings import ServerSettings, Settings


@pytest.mark.parametrize(("server", "factory"), [
    ({}, "uvicorn_engine"),  # auto (issue 25): Uvicorn for an asyncio app
    ({"engine": "hypercorn"}, "hypercorn_engine"),
    ({"engine": "uvicorn"}, "uvicorn_engine"),
    ({"loop": "trio"}, "hypercorn_engine"),
    ({"workers": 2}, "_WorkersEngine"),
    ({"workers": 3, "engine": "uvicorn"}, "_WorkersEngine"),  # its processes serve with uvicorn
    ({"workers": 1, "engine": "uvicorn"}, "uvicorn_engine"),
])
def test_engine_for_picks_the_supervisor_above_one_worker_else_server_engine(server: dict[str, object],
                                                                            factory: str) -> None:
    engine = engine_for(Settings(server=ServerSettings(**server)))
    assert getattr(engine, "__name__", type(engine).__name__) == factory


def test_every_engine_named_loads_and_an_unknown_name_is_a_key_error() -> None:
    assert set(ENGINES) == {"hypercorn", "uvicorn", "workers"}
    for name in ENGINES:
        assert callable(load_engine(name))
    with pytest.raises(KeyError):
        load_engine("gunicorn")


def test_only_the_worker_supervisor_imports_the_app_elsewhere() -> None:
    assert {name: imports_app(load_engine(name)) for name in ENGINES} == {
        "hypercorn": True, "uvicorn": True, "workers": False}

    def plain(*args: object) -> None:
        raise AssertionError("not called")

    assert imports_app(plain)  # type: ignore[arg-type]  # any callable without imports_app = False


def test_importing_the_serving_package_imports_no_engine() -> None:
    code = ("import sys, resync_fsm.serving; "
            "print(sorted(m for m in sys.modules if m.startswith(('hypercorn', 'uvicorn', "
            "'resync_fsm.serving.hypercorn', 'resync_fsm.serving.uvicorn', 'resync_fsm.serving.workers'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_an_engine_saying_imports_app_true_imports_the_app() -> None:
    """A runtime-checkable protocol checks that ``imports_app`` exists, not that it is False."""
    class Says:
        imports_app = True

        def __call__(self, *args: object) -> None:
            raise AssertionError("not called")

    assert imports_app(Says())  # type: ignore[arg-type]
