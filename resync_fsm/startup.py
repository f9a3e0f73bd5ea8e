"""Validating and probing, written once for both ``run`` (the runner's states) and ``check``.

``validate`` parses every source once (DESIGN §3): the CLI calls it before the
lifecycle starts, because the app's loop (``server.loop``) must be known to
host the runner, and the runner's ``validating`` state then reports that one
outcome. ``probe`` runs every probe of the settings until they settle or the
startup deadline passes (DESIGN §4); ``unavailable`` is the error for critical
probes still failing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import trio

from .errors import ConfigurationValidationError, DependencyUnavailableError
from .logs import get_logger
from .probes import ProbeBoard, ProbeResult, probe_board, unavailable_error
from .settings import Settings, load_settings

__all__ = ["loader", "probe", "unavailable", "validate"]

log = get_logger("resync_fsm.startup")


def validate(load_kwargs: dict[str, Any]) -> tuple[Settings | None, ConfigurationValidationError | None]:
    """``load_settings(**load_kwargs)`` once: the settings, or the error listing every problem."""
    try:
        return load_settings(**load_kwargs), None
    except ConfigurationValidationError as exc:
        return None, exc


def loader(settings: Settings | None, error: ConfigurationValidationError | None) -> Callable[[], Any]:
    """The runner's ``load``: reports the outcome of :func:`validate` in ``validating`` (Resync's
    events) and primes Resync's ``get_validated_settings()`` cache with the same settings."""

    async def load() -> Settings:
        from .compat import remember_validated_settings

        log.info("performing_initial_settings_validation")
        if settings is None:
            assert error is not None
            raise error
        remember_validated_settings(settings)
        log.info("settings_validation_cached_successfully")
        return settings

    return load


async def probe(settings: Settings, *, board: ProbeBoard | None = None,
                listeners: Iterable[Callable[[ProbeResult], None]] = ()) -> ProbeBoard:
    """Probe every dependency of ``settings`` concurrently until all settle or ``startup.timeout``
    seconds pass; returns ``board`` (a new one by default) holding one result per probe (none
    vanishes)."""
    board = board if board is not None else ProbeBoard(settings.probes)
    board.listeners.extend(listeners)
    await probe_board(board, deadline=trio.current_time() + settings.startup.timeout)
    return board


def unavailable(board: ProbeBoard, settings: Settings) -> DependencyUnavailableError | None:
    """The error (exit 69) when a critical probe of ``board`` is not ok, else ``None``."""
    return None if board.critical_ok else unavailable_error(board, settings.startup.timeout)
