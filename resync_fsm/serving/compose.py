"""One serving of one app on one engine, composed in one place: :func:`compose`.

The runner calls it in ``serving`` and a worker process
(:mod:`.workers.child`) calls it for its own serving: the app loaded
(:mod:`.loading`), the health wrapper around it (the runner's endpoints, the
drain's duties, metrics; :class:`~resync_fsm.web.health.HealthWrapper`), and
the engine's server built over that wrapper (:mod:`.engines`), and the bounds of the lingering close
(:mod:`.lingering`) every engine's patches use. The middleware
the engine puts in front (proxy headers, access log: :mod:`.middleware`) is
added by the engine on the app's loop, once the lifespan state exists.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ..settings.model import Settings
from ..web.asgi import ASGIApp, Receive, Scope, Send
from ..web.body_limit import BodyLimit
from ..web.exposure import public_status
from ..web.health import HealthWrapper
from ..web.metrics import RunnerMetrics
from ..web.root_path import RootPath
from ..web.view import HealthView
from .counting import RequestCounter, recycle_limit
from .engines import engine_for, imports_app
from .interface import Engine, OnFault, Server
from .lingering import LINGERER
from .loading import check_app_source, load_app

__all__ = ["Serving", "compose", "import_app", "request_limit"]


@attrs.define(eq=False)
class Serving:
    """What :func:`compose` made: the health ``wrapper`` around the app and the engine's ``server``."""

    wrapper: HealthWrapper
    server: Server

    @property
    def management_urls(self) -> list[str]:
        """The management listeners' URLs, once the server has bound them (empty before, or without any)."""
        return self.wrapper.management.urls


def compose(
    settings: Settings,
    view: HealthView,
    on_fault: OnFault,
    *,
    engine: Engine | None = None,
    app: ASGIApp | None = None,
    metrics: RunnerMetrics | None = None,
    wrap_app: Callable[[ASGIApp], ASGIApp] | None = None,
) -> Serving:
    """One serving of ``settings.server.app`` (or ``app``) on ``engine`` (default: the one
    :func:`~.engines.engine_for` picks for the settings), answering the health endpoints from ``view``.

    ``on_fault(error)`` is told of an error while serving (the app's lifespan died); ``metrics``
    counts requests and serves ``server.metrics_path``; ``wrap_app`` wraps the loaded app (a worker
    counts its requests); ``server.max_body_size`` limits request bodies
    (:class:`~resync_fsm.web.body_limit.BodyLimit`) and the ``server.lingering_*`` bounds configure the
    process's :data:`~.lingering.LINGERER`. An engine whose processes import the app themselves (the
    worker supervisor) gets a wrapper around no app. Raises :class:`~resync_fsm.errors.StartupError` when
    the app does not import (exit 70).
    """
    server = settings.server
    engine = engine if engine is not None else engine_for(settings)
    if app is None:
        app = load_app(server.app, factory=server.factory, app_dir=server.app_dir) if imports_app(engine) \
            else _served_elsewhere
    shown = public_status(settings, app)
    if server.root_path:  # one meaning on every engine: the engines get none (web/root_path.py)
        app = RootPath(app, server.root_path)
    if wrap_app is not None:
        app = wrap_app(app)
    if server.max_body_size is not None:
        app = BodyLimit(app, server.max_body_size)
    LINGERER.configure(time=server.lingering_time, timeout=server.lingering_timeout, size=server.lingering_size)
    wrapper = HealthWrapper(app, view, livez=server.livez_path, readyz=server.readyz_path,
                            status=server.status_path, limit=server.limit_concurrency,
                            metrics=metrics, metrics_path=server.metrics_path,
                            public_status=shown,
                            public_metrics=not server.management_bind)
    return Serving(wrapper, engine(wrapper, settings, on_fault))


def import_app(settings: Settings, engine: Engine | None = None) -> ASGIApp | None:
    """The app of ``settings.server.app``, imported now (synchronously, on this thread: the runner calls
    it while ``validating``, so that an app that does not import is exit 70 before any probe runs), for
    :func:`compose`'s ``app``. An ``engine`` (default: :func:`~.engines.engine_for`'s) whose processes
    import the app themselves (workers, reload) gets ``None``: here its module is only found and its
    source compiled (:func:`~.loading.check_app_source`), so a typo or a syntax error fails the same way.
    Raises :class:`~resync_fsm.errors.StartupError` (exit 70)."""
    server = settings.server
    if imports_app(engine if engine is not None else engine_for(settings)):
        return load_app(server.app, factory=server.factory, app_dir=server.app_dir)
    check_app_source(server.app, app_dir=server.app_dir)
    return None


def request_limit(settings: Settings, engine: Engine | None,
                  reached: Callable[[int], None]) -> Callable[[ASGIApp], ASGIApp] | None:
    """With one process (an ``engine``, default :func:`~.engines.engine_for`'s, that serves the app here) and
    ``server.max_requests``: a ``wrap_app`` for :func:`compose` counting the app's requests and
    websockets, calling ``reached(count)`` once, on the app's loop, at ``max_requests`` plus
    0..``max_requests_jitter`` (Uvicorn's ``--limit-max-requests``: the caller drains). None otherwise:
    worker processes count their own (:mod:`.workers`)."""
    server = settings.server
    limit = recycle_limit(server.max_requests, server.max_requests_jitter)
    if not limit or not imports_app(engine if engine is not None else engine_for(settings)):
        return None
    return lambda app: RequestCounter(app, limit, lambda: reached(limit))


async def _served_elsewhere(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("the app is served by worker processes, not this one")
