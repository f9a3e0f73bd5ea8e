"""Loading the ASGI app named by ``server.app`` (``module:attr``), as Uvicorn and Hypercorn do, or, for a
process that must not import it (Gunicorn's supervisor without ``--preload``), checking its source."""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
from typing import Any

from ..errors import StartupError
from ..web.asgi import ASGIApp

__all__ = ["check_app_source", "load_app"]


def load_app(ref: str, *, factory: bool = False, app_dir: str = ".") -> ASGIApp:
    """``module:attr`` (dots allowed in both) to the ASGI app, calling it first with ``factory``.

    ``app_dir`` (``server.app_dir``; default the working directory, as with
    ``python -m`` and Uvicorn's ``--app-dir``) goes first on ``sys.path``. Raises :class:`StartupError` naming
    ``server.app`` when the module does not import, lacks the attribute, or the
    result is not callable.
    """
    module_name, _, attr = ref.partition(":")
    _on_path(app_dir)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _not_found(ref, module_name, str(exc)) from exc
    except (Exception, SystemExit) as exc:  # the module raised, or called sys.exit(), while importing
        what = f"exited ({exc.code})" if isinstance(exc, SystemExit) else f"raised {type(exc).__name__}: {exc}"
        raise StartupError(
            f"the app module {module_name!r} (server.app = {ref!r}) {what} while being imported",
            {"app": ref},
        ) from exc
    target: Any = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise StartupError(
                f"module {module_name!r} has no attribute {attr!r} (server.app = {ref!r})",
                {"app": ref},
            ) from None
    if factory:
        target = target()
    if not callable(target):
        raise StartupError(f"server.app {ref!r} is not callable: not an ASGI app", {"app": ref})
    app: ASGIApp = target
    return app


def check_app_source(ref: str, *, app_dir: str = ".") -> None:
    """``ref``'s module found and its source compiled, with no module executed (not even its packages'
    ``__init__``): what a process that leaves the import to its workers can check (Gunicorn imports in
    its workers unless ``--preload``). Raises :class:`StartupError` naming ``server.app`` when the
    module is not found or its source has a syntax error (file and line). A module without source (an
    extension, a bare ``.pyc``) passes once found; its attribute is checked by the import.
    """
    module_name = ref.partition(":")[0]
    _on_path(app_dir)
    spec = _find_spec(module_name)
    if spec is None:
        raise _not_found(ref, module_name, f"No module named {module_name!r}")
    get_source = getattr(spec.loader, "get_source", None)
    try:
        source = get_source(module_name) if get_source is not None else None
    except (ImportError, OSError):
        source = None
    if source is None:
        return
    try:
        compile(source, spec.origin or module_name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:  # ValueError: a NUL byte in the source
        where = f" ({exc.filename}, line {exc.lineno})" if isinstance(exc, SyntaxError) else ""
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        raise StartupError(
            f"the app module {module_name!r} (server.app = {ref!r}) does not compile: {message}{where}",
            {"app": ref},
        ) from exc


def _on_path(app_dir: str) -> None:
    directory = os.path.abspath(app_dir)
    if directory not in sys.path:
        sys.path.insert(0, directory)  # the console script, unlike python -m, does not add the cwd


def _not_found(ref: str, module_name: str, why: str) -> StartupError:
    return StartupError(
        f"cannot import the app module {module_name!r} (server.app = {ref!r}): {why}. "
        "Check --app and that the module is on PYTHONPATH.",
        {"app": ref},
    )


def _find_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """The spec of module ``name`` as the import system would find it (every finder of
    ``sys.meta_path``, each package's ``__path__``), without importing its packages: a package
    already imported gives its own spec and path."""
    path: list[str] | None = None
    spec: importlib.machinery.ModuleSpec | None = None
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        if path is None and depth > 1:
            return None  # the parent is a module, not a package
        full = ".".join(parts[:depth])
        loaded = sys.modules.get(full)
        spec = getattr(loaded, "__spec__", None) if loaded is not None else _from_finders(full, path)
        if spec is None:
            return None
        path = list(spec.submodule_search_locations) if spec.submodule_search_locations is not None else None
    return spec


def _from_finders(name: str, path: list[str] | None) -> importlib.machinery.ModuleSpec | None:
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        spec: importlib.machinery.ModuleSpec | None = find(name, path)
        if spec is not None:
            return spec
    return None
