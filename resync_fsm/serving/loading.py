"""Loading the ASGI app named by ``server.app`` (``module:attr``), as Uvicorn and Hypercorn do."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from ..errors import StartupError
from ..web.asgi import ASGIApp

__all__ = ["load_app"]


def load_app(ref: str, *, factory: bool = False, app_dir: str = ".") -> ASGIApp:
    """``module:attr`` (dots allowed in both) to the ASGI app, calling it first with ``factory``.

    ``app_dir`` (``server.app_dir``; default the working directory, as with
    ``python -m`` and Uvicorn's ``--app-dir``) goes first on ``sys.path``. Raises :class:`StartupError` naming
    ``server.app`` when the module does not import, lacks the attribute, or the
    result is not callable.
    """
    module_name, _, attr = ref.partition(":")
    directory = os.path.abspath(app_dir)
    if directory not in sys.path:
        sys.path.insert(0, directory)  # the console script, unlike python -m, does not add the cwd
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StartupError(
            f"cannot import the app module {module_name!r} (server.app = {ref!r}): {exc}. "
            "Check --app and that the module is on PYTHONPATH.",
            {"app": ref},
        ) from exc
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
