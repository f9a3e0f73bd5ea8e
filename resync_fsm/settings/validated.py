"""The validated-settings cache behind Resync's ``get_validated_settings()`` (:mod:`resync_fsm.compat`).

Here, in ``settings``, so that the runner can prime it with the settings it validated (issue 24)
without importing an entry point. A thread lock, not a trio or asyncio one: validation never
awaits, and the app reading the cache may run on asyncio, uvloop or trio (``server.loop``)
while the runner primes it from trio; re-entrant, so that ``compat`` can hold it across a load.
"""

from __future__ import annotations

import threading

from .model import Settings

__all__ = ["current", "forget", "lock", "remember"]

lock = threading.RLock()
_cache: list[Settings] = []  # at most one: the settings validated last


def remember(settings: Settings) -> None:
    """Cache ``settings`` for the app's ``get_validated_settings()``."""
    with lock:
        _cache[:] = [settings]


def current() -> Settings | None:
    """The cached settings, or ``None`` when nothing was validated since the last :func:`forget`."""
    with lock:
        return _cache[0] if _cache else None


def forget() -> None:
    """Empty the cache: the next ``get_validated_settings()`` validates again."""
    with lock:
        _cache.clear()
