"""The built-in app under its public name ``resync_fsm.app:app`` (the default ``server.app``).

Defined in :mod:`resync_fsm.web.status_app`.
"""

from .web.status_app import app, complete_lifespan

__all__ = ["app", "complete_lifespan"]
