"""Serving with Hypercorn on trio: loading the app, the config, and translating its failures.

Imported only by the commands that serve, so that ``check``, ``diagram`` and
``--version`` never pay for Hypercorn.
"""

from __future__ import annotations

import errno
import importlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from hypercorn.utils import LifespanFailureError, LifespanTimeoutError

from .errors import StartupError
from .health import ASGIApp
from .settings.model import ServerSettings, Settings

__all__ = ["hypercorn_config", "load_app", "serve_app"]


def load_app(ref: str, *, factory: bool = False) -> ASGIApp:
    """``module:attr`` to the ASGI app; a failure is a :class:`StartupError` naming it."""
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StartupError(
            f"cannot import the app module {module_name!r} (server.app = {ref!r}): {exc}. "
            "Check --app and that the module is on PYTHONPATH.",
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


def hypercorn_config(server: ServerSettings, startup_timeout: float) -> Config:
    config = Config()
    config.bind = list(server.bind)
    config.graceful_timeout = server.graceful_timeout
    config.shutdown_timeout = server.shutdown_timeout
    config.startup_timeout = startup_timeout
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    return config


async def serve_app(
    app: ASGIApp,
    settings: Settings,
    *,
    shutdown_trigger: Callable[[], Awaitable[None]],
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until ``shutdown_trigger`` returns and the drain ends; started() with the bound URLs."""
    config = hypercorn_config(settings.server, settings.startup.timeout)
    try:
        await serve(app, config, shutdown_trigger=shutdown_trigger, task_status=task_status)  # type: ignore[arg-type]
    except BaseExceptionGroup as group:
        errors = group.split(Exception)[0]
        leaves = list(_leaves(errors)) if errors is not None else []
        if not leaves:
            raise
        raise _startup_error(leaves[0], settings.server) from group
    except (OSError, LifespanFailureError, LifespanTimeoutError) as exc:
        raise _startup_error(exc, settings.server) from exc


def _leaves(group: BaseExceptionGroup[Exception]) -> Any:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


def _startup_error(exc: BaseException, server: ServerSettings) -> StartupError:
    if isinstance(exc, StartupError):
        return exc
    binds = ", ".join(server.bind)
    if isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
        what = {
            errno.EADDRINUSE: "address already in use",
            errno.EACCES: "permission denied",
            errno.EADDRNOTAVAIL: "address not available on this machine",
        }[exc.errno]
        return StartupError(
            f"cannot bind {binds}: {what}. Choose another --bind or stop what holds it.",
            {"bind": list(server.bind), "errno": exc.errno},
        )
    if isinstance(exc, OSError):  # not one of a bind's own errors: say what failed, and where
        return StartupError(f"the server failed on {binds}: {exc.strerror or exc}", {"bind": list(server.bind)})
    if isinstance(exc, LifespanFailureError):
        return StartupError(f"the app's lifespan startup failed: {exc}", {})
    if isinstance(exc, LifespanTimeoutError):
        return StartupError(f"the app's lifespan did not complete in time: {exc}", {})
    return StartupError(f"the server stopped with {type(exc).__name__}: {exc}", {})
