"""The app as any backend serves it: lifespan answered, proxy headers believed, requests logged.

Engine-neutral (issue 14): a backend wraps the health wrapper with
:func:`serving_app` and maps the rest of the settings onto its own server (see
:func:`~resync_fsm.serving.hypercorn.hypercorn_config`), with its own proxy
headers and access log turned off. Outermost first: trusted proxies' headers set
the client, scheme and host (:mod:`~resync_fsm.web.proxy_headers`), then the access
log (:mod:`~resync_fsm.web.access_log`) sees the corrected request, then the
health wrapper, which answers the server's lifespan scope at once (resync_fsm runs
the app's, :mod:`.lifespan`) and copies the lifespan ``state`` into every scope,
then the app. With neither middleware configured the server calls the health
wrapper itself: no layer is added to a request. On ``server.loop = trio`` one more
layer, :class:`AsyncioOnTrio`, names the likely cause of an app's failing requests.
"""

from __future__ import annotations

from ..logs import get_logger
from ..settings.model import Settings
from ..web.asgi import ASGIApp, Receive, Scope, Send
from ..web.health import HealthWrapper
from .lifespan import Lifespan

__all__ = ["AsyncioOnTrio", "needs_asyncio", "serving_app"]

log = get_logger("resync_fsm.serving")

_ASYNCIO_ONLY = ("no running event loop", "no current event loop",  # asyncio.get_running_loop() and co.
                 "trio.run received unrecognized yield message")  # an asyncio future awaited on trio


def needs_asyncio(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it, or one in its group) is the mark of asyncio code run on trio:
    asyncio's ``RuntimeError: no running event loop``, sniffio's ``AsyncLibraryNotFoundError``, or trio's
    ``TypeError`` for a foreign yield (an asyncio future awaited)."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if type(current).__name__ == "AsyncLibraryNotFoundError" or (
                isinstance(current, RuntimeError | TypeError) and any(m in str(current) for m in _ASYNCIO_ONLY)):
            return True
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
    return False


class AsyncioOnTrio:
    """``server.loop = trio``: the first of the app's requests that fails because the app needs asyncio
    (:func:`needs_asyncio`) logs one warning, ``app_needs_asyncio``, naming ``--loop asyncio`` (issue 22);
    the error goes on to the server as before (a 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.warned = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except BaseException as exc:
            if not self.warned and needs_asyncio(exc):
                self.warned = True
                log.warning("app_needs_asyncio", error=f"{type(exc).__name__}: {exc}",
                            hint="the app needs asyncio but server.loop is trio: "
                                 "run it with --loop asyncio (or --loop uvloop)")
            raise


def serving_app(wrapper: HealthWrapper, lifespan: Lifespan, settings: Settings) -> ASGIApp:
    """``wrapper`` as the server sees it (see the module).

    ``server.forwarded_allow_ips`` empty: no proxy header is read;
    ``access_log.enabled`` false: no access middleware at all (no cost); ``server.loop = trio``:
    :class:`AsyncioOnTrio` around the health wrapper.
    """
    wrapper.answer_server_lifespan(lifespan.state)
    inner: ASGIApp = AsyncioOnTrio(wrapper) if settings.server.loop == "trio" else wrapper
    if settings.access_log.enabled:
        from ..web.access_log import AccessLog

        server = settings.server
        skip = frozenset() if settings.access_log.health else frozenset(
            (server.livez_path, server.readyz_path, server.status_path, server.metrics_path))
        inner = AccessLog(inner, skip=skip)
    if settings.server.forwarded_allow_ips:
        from ..web.proxy_headers import ProxyHeaders

        inner = ProxyHeaders(inner, settings.server.forwarded_allow_ips)
    return inner
