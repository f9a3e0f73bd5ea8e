"""The import rules of the package docstring (resync_fsm/__init__.py), kept: every module's imports read
from its source (``TYPE_CHECKING`` ones and imports inside functions included) and checked.

The checker itself is tested on graphs with a deliberate violation, so that it can fail.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "resync_fsm"

LEAVES = frozenset({"version", "lifecycle", "errors", "logs", "log_config", "log_streams", "redaction", "diagram",
                    "loops", "signal_buffer", "notify"})
ENTRY_POINTS = frozenset({"", "__main__", "cli", "flags", "check", "compat", "startup", "app", "worker"})
SERVING_FRONT = frozenset({"serving", "serving.compose", "serving.interface"})  # what the runner may import
# the modules that may import by name at run time (importlib), and why: anything else would hide an import
DYNAMIC_IMPORTS = {
    "": "the public API's names, on first use",
    "serving.engines": "where an engine plugs in, by import string",
    "serving.loading": "the app named by server.app",
    "log_config": "PyYAML, only for a YAML --log-config",
}
# import cycles between modules that are there by design, each with why
KNOWN_CYCLES = {
    frozenset({"settings.advice", "settings.model"}): "Settings.warnings() imports the advice on first use",
    frozenset({"web.metrics", "web.prometheus"}): "prometheus_client is imported at the first scrape only",
}
# ... and the runner's activity registry: each state module registers itself with runner.activities
KNOWN_FOLDER_CYCLES = {"runner"}
ENGINES = ("serving.hypercorn", "serving.uvicorn", "serving.workers")


def module_imports(root: Path = ROOT) -> dict[str, set[str]]:
    """Each module of the package (dotted, without ``resync_fsm.``; the package itself is ``""``) and the
    package modules it imports anywhere in its source. ``from . import x`` counts as importing ``x``."""
    modules = {_name(path, root): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = _resolve(package, node.level, node.module)
                if base is None:
                    continue
                for alias in node.names:
                    child = f"{base}.{alias.name}" if base else alias.name
                    found.add(child if child in modules else base)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "resync_fsm" or alias.name.startswith("resync_fsm."):
                        found.add(alias.name.removeprefix("resync_fsm").removeprefix("."))
        graph[name] = {m for m in found if m != name}
    return graph


def _name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(package: str, level: int, module: str | None) -> str | None:
    if level == 0:
        if module is None or not (module == "resync_fsm" or module.startswith("resync_fsm.")):
            return None
        return module.removeprefix("resync_fsm").removeprefix(".")
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def group(module: str) -> str:
    """The role of ``module``: leaf, entry, settings, probes, web, serving (its front and shared parts),
    an engine subpackage, or runner."""
    if module in LEAVES:
        return "leaf"
    if module in ENTRY_POINTS:
        return "entry"
    for engine in ENGINES:
        if module == engine or module.startswith(engine + "."):
            return engine
    return module.split(".")[0]


def allowed(source: str, target: str) -> bool:
    """Whether ``source`` may import ``target`` (the rules of the package docstring)."""
    src, dst = group(source), group(target)
    if src == dst and src != "leaf":
        return True
    if src == "entry":
        return True
    if src == "leaf":
        return dst == "leaf"
    if src == "settings":
        return dst == "leaf"
    if src == "probes":
        return dst in ("leaf", "settings")
    if src == "web":
        return dst == "leaf" or target == "probes.results"
    if src == "serving":
        return dst in ("leaf", "settings", "web")  # never an engine: engines plug in by name (serving.engines)
    if src in ENGINES:
        return dst in ("leaf", "settings", "web", "serving")  # never another engine, never the runner
    if src == "runner":
        return dst in ("leaf", "settings", "probes", "web") or target in SERVING_FRONT
    return False


def violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """``source -> target`` for each import the rules forbid, each cycle between groups, and each cycle
    between modules (inside a folder, or between leaves) except the :data:`KNOWN_CYCLES`."""
    broken = [f"{source} -> {target}" for source, targets in sorted(graph.items())
              for target in sorted(targets) if not allowed(source, target)]
    return (broken + [f"cycle: {' -> '.join(cycle)}" for cycle in group_cycles(graph)]
            + [f"cycle: {' -> '.join(cycle)}" for cycle in module_cycles(graph) if not _known(cycle)])


def _known(cycle: list[str]) -> bool:
    modules = frozenset(cycle)
    return modules in KNOWN_CYCLES or all(m.split(".")[0] in KNOWN_FOLDER_CYCLES for m in modules)


def module_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Import cycles between modules, each as a path starting at its smallest module."""
    return _cycles({source: set(targets) for source, targets in graph.items()})


def group_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Import cycles between groups (the package's folders and roles), each as a path of groups."""
    edges: dict[str, set[str]] = {}
    for source, targets in graph.items():
        for target in targets:
            a, b = group(source), group(target)
            if a != b:
                edges.setdefault(a, set()).add(b)
    return _cycles(edges)


def _cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """Each cycle of ``edges`` once, as a path from its smallest node back to it."""
    cycles = []
    for start in sorted(edges):
        path = _path_back(edges, start)
        if path is not None and min(path) == start:
            cycles.append(path)
    return cycles


def _path_back(edges: Mapping[str, set[str]], start: str) -> list[str] | None:
    """A path start -> ... -> start, if any (depth first)."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(edges.get(node, ())):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_the_package_keeps_its_import_rules() -> None:
    assert violations(module_imports()) == []


def test_only_the_named_modules_import_by_name_at_run_time() -> None:
    found = set()
    for path in ROOT.rglob("*.py"):
        if "import_module(" in path.read_text() or "__import__(" in path.read_text():
            found.add(_name(path, ROOT))
    assert found <= set(DYNAMIC_IMPORTS), found - set(DYNAMIC_IMPORTS)


def test_every_module_has_a_role() -> None:
    known = {"leaf", "entry", "settings", "probes", "web", "serving", "runner", *ENGINES}
    assert {m: group(m) for m in module_imports() if group(m) not in known} == {}


@pytest.mark.parametrize(("source", "target"), [
    ("web.health", "runner.core"),  # web answers from a view; it never reaches into the runner
    ("web.metrics", "settings.model"),
    ("settings.model", "probes.results"),
    ("probes.tcp", "web.asgi"),
    ("serving.compose", "serving.hypercorn.server"),  # the front picks engines by name only
    ("serving.uvicorn.server", "serving.hypercorn.patches"),  # engines never import each other
    ("serving.workers.pool", "runner.core"),
    ("runner.serving", "serving.hypercorn"),  # the runner sees serving's front only
    ("runner.serving", "serving.binding"),
    ("runner.serving", "serving.engines"),  # the runner gets its engine through compose(), never by name
    ("lifecycle", "settings.model"),
])
def test_a_deliberate_violation_is_reported(source: str, target: str) -> None:
    graph = {name: set(targets) for name, targets in module_imports().items()}
    graph.setdefault(source, set()).add(target)
    assert f"{source} -> {target}" in violations(graph)


@pytest.mark.parametrize(("source", "target"), [
    ("logs", "log_streams"),  # log_streams imports nothing of logs: this edge makes a cycle of leaves
    ("serving.workers.generations", "serving.workers.pool"),  # pool drives generations, never back
])
def test_a_cycle_between_modules_is_reported(source: str, target: str) -> None:
    graph = {name: set(targets) for name, targets in module_imports().items()}
    graph[target].add(source) if target in graph and source not in graph[target] else None
    graph[source].add(target)
    assert any(v.startswith("cycle:") and source in v and target in v for v in violations(graph))


def test_a_cycle_between_folders_is_reported() -> None:
    # each edge allowed on its own would still make a cycle: web -> probes.results and probes -> web
    graph = {"web.health": {"probes.results"}, "probes.results": {"settings.model"}, "settings.model": set()}
    assert violations(graph) == []
    graph["probes.results"].add("web.asgi")
    assert any(v.startswith("probes.results -> web.asgi") for v in violations(graph))
    assert any(v.startswith("cycle:") for v in violations(graph))


def test_type_checking_and_function_level_imports_count(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "web").mkdir(parents=True)
    (package / "runner").mkdir()
    for init in (package / "__init__.py", package / "web" / "__init__.py", package / "runner" / "__init__.py"):
        init.write_text("")
    (package / "runner" / "core.py").write_text("")
    (package / "web" / "status.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..runner.core import Runner\n"
        "def f():\n    from .. import runner\n")
    graph = module_imports(package)
    assert graph["web.status"] == {"runner.core", "runner"}
    assert "web.status -> runner.core" in violations(graph)
