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
wrapper itself: no layer is added to a request.
"""

from __future__ import annotations

from ..settings.model import Settings
from ..web.asgi import ASGIApp
from ..web.health import HealthWrapper
from .lifespan import Lifespan

__all__ = ["serving_app"]


def serving_app(wrapper: HealthWrapper, lifespan: Lifespan, settings: Settings) -> ASGIApp:
    """``wrapper`` as the server sees it (see the module).

    ``server.forwarded_allow_ips`` empty: no proxy header is read;
    ``access_log.enabled`` false: no access middleware at all (no cost).
    """
    wrapper.answer_server_lifespan(lifespan.state)
    inner: ASGIApp = wrapper
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
