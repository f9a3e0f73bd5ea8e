"""Loading ``server.app`` (``module:attr``): each way it can fail is a StartupError naming server.app."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from resync_fsm.errors import StartupError
from resync_fsm.serving.loading import load_app

MODULES = {
    "good": "async def app(scope, receive, send):\n    pass\n"
            "class inner:\n    async def app(scope, receive, send):\n        pass\n"
            "def make():\n    return app\n"
            "not_an_app = 3\n",
    "broken": "raise RuntimeError('no database URL')\n",
    "exits": "import sys\nsys.exit(4)\n",
    "needs": "import a_dependency_that_is_not_installed\n",
}


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """(app_dir, prefix): modules ``<prefix>_good`` etc. in it; sys.path and sys.modules restored."""
    prefix = f"loading_{abs(hash(tmp_path)) % 10**8}"
    for name, source in MODULES.items():
        (tmp_path / f"{prefix}_{name}.py").write_text(source)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield str(tmp_path), prefix
    for name in MODULES:
        sys.modules.pop(f"{prefix}_{name}", None)


def test_the_app_dir_goes_first_on_sys_path_and_the_attribute_is_the_app(app_dir: tuple[str, str]) -> None:
    directory, prefix = app_dir
    app = load_app(f"{prefix}_good:app", app_dir=directory)
    assert sys.path[0] == directory and app is sys.modules[f"{prefix}_good"].app
    assert load_app(f"{prefix}_good:inner.app", app_dir=directory).__qualname__ == "inner.app"  # dotted
    assert load_app(f"{prefix}_good:make", factory=True, app_dir=directory) is app
    load_app(f"{prefix}_good:app", app_dir=directory)
    assert sys.path.count(directory) == 1  # once


@pytest.mark.parametrize(("ref", "says"), [
    ("{p}_missing:app", "cannot import the app module '{p}_missing' (server.app = '{p}_missing:app'): "
                        "No module named '{p}_missing'. Check --app and that the module is on PYTHONPATH."),
    ("{p}_needs:app", "cannot import the app module '{p}_needs' (server.app = '{p}_needs:app'): "
                      "No module named 'a_dependency_that_is_not_installed'."),
    ("{p}_broken:app", "the app module '{p}_broken' (server.app = '{p}_broken:app') raised RuntimeError: "
                       "no database URL while being imported"),
    ("{p}_exits:app", "the app module '{p}_exits' (server.app = '{p}_exits:app') exited (4) while being imported"),
    ("{p}_good:nope", "module '{p}_good' has no attribute 'nope' (server.app = '{p}_good:nope')"),
    ("{p}_good:inner.nope", "module '{p}_good' has no attribute 'inner.nope'"),
    ("{p}_good:not_an_app", "server.app '{p}_good:not_an_app' is not callable: not an ASGI app"),
])
def test_each_failure_is_a_startup_error_naming_server_app(app_dir: tuple[str, str], ref: str, says: str) -> None:
    directory, prefix = app_dir
    ref, says = ref.format(p=prefix), says.format(p=prefix)
    with pytest.raises(StartupError) as info:
        load_app(ref, app_dir=directory)
    assert str(info.value).startswith(says)
    assert info.value.details == {"app": ref} and info.value.exit_code == 70
