"""``check_app_source`` (issue 22): what a process that leaves the import to its workers checks of the app
(Gunicorn's supervisor without ``--preload``): found and compiled, nothing executed; it agrees with the
import on every tree of packages and modules."""

from __future__ import annotations

import importlib
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resync_fsm.errors import StartupError
from resync_fsm.serving.loading import check_app_source

_names = itertools.count()


@pytest.fixture(autouse=True)
def _path_kept() -> Iterator[None]:
    kept = list(sys.path)
    yield
    sys.path[:] = kept


def test_a_package_init_is_not_run(tmp_path: Path) -> None:
    root = f"cas_pkg{next(_names)}"
    (tmp_path / root / "sub").mkdir(parents=True)
    (tmp_path / root / "__init__.py").write_text("raise RuntimeError('ran')\n")
    (tmp_path / root / "sub" / "__init__.py").write_text("raise RuntimeError('ran')\n")
    (tmp_path / root / "sub" / "main.py").write_text("raise RuntimeError('ran')\napp = 1\n")
    check_app_source(f"{root}.sub.main:app", app_dir=str(tmp_path))
    assert root not in sys.modules


@pytest.mark.parametrize(("source", "expected"), [("app = 1\nif True\n", "line 2"), ("x = '\0'\n", "null")])
def test_a_module_that_does_not_compile(tmp_path: Path, source: str, expected: str) -> None:
    name = f"cas_bad{next(_names)}"
    (tmp_path / f"{name}.py").write_text(source)
    with pytest.raises(StartupError, match="does not compile") as caught:
        check_app_source(f"{name}:app", app_dir=str(tmp_path))
    assert expected in str(caught.value) and name not in sys.modules


@pytest.mark.parametrize("ref", ["nosuchmod:app", "json.nosuch:app", "json.decoder.x:app", "resync_fsm.nope:app"])
def test_a_module_that_is_not_there(ref: str) -> None:
    with pytest.raises(StartupError, match="cannot import the app module"):
        check_app_source(ref)


@pytest.mark.parametrize("ref", ["resync_fsm.app:app", "json:loads", "tests.e2e.apps:hello_app"])
def test_modules_that_are_there_pass(ref: str) -> None:
    check_app_source(ref)


# A tree: each node a module (source ok or not) or a package of nodes; then a dotted name into it.
_leaf = st.tuples(st.just("module"), st.booleans())
_tree = st.recursive(_leaf, lambda kids: st.tuples(st.just("package"), st.dictionaries(
    st.sampled_from("abc"), kids, min_size=1, max_size=3)), max_leaves=6)


def _write(node: tuple[str, object], path: Path) -> None:
    kind, content = node
    if kind == "module":
        path.with_suffix(".py").write_text("app = 1\n" if content else "app = (\n")
        return
    path.mkdir()
    (path / "__init__.py").write_text("")
    assert isinstance(content, dict)
    for name, child in content.items():
        _write(child, path / name)


@settings(max_examples=60, deadline=None)
@given(tree=_tree, query=st.lists(st.sampled_from("abcd"), min_size=0, max_size=3))
def test_it_fails_exactly_when_the_import_would(tmp_path_factory: pytest.TempPathFactory,
                                                tree: tuple[str, object], query: list[str]) -> None:
    base = tmp_path_factory.mktemp("tree")
    root = f"cas_tree{next(_names)}"
    _write(tree, base / root)
    name = ".".join([root, *query])
    kept = list(sys.path)
    try:
        check_app_source(f"{name}:app", app_dir=str(base))
        checked = True
    except StartupError:
        checked = False
    try:
        importlib.import_module(name)
        imported = True
    except (ImportError, SyntaxError):
        imported = False
    finally:
        for loaded in [m for m in sys.modules if m == root or m.startswith(root + ".")]:
            del sys.modules[loaded]
        sys.path[:] = kept
    assert checked == imported, (tree, name)
