"""Resync's startup API, kept: cached settings validation, cleanup, and boolean checks.

``get_validated_settings`` and ``cleanup_resources`` fix the defects of
Resync's originals: the cache is really reset, ``fail_fast`` is honoured, and
the checks are trio-native and close every connection they open.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from .errors import ConfigurationValidationError
from .logs import get_logger, symbol
from .probes import ProbeFailure, open_attempt
from .settings import ProbeSpec, Settings, load_settings, validated

__all__ = ["check_http", "check_tcp", "cleanup_resources", "get_validated_settings", "remember_validated_settings"]

log = get_logger("resync_fsm.startup")


def remember_validated_settings(settings: Settings) -> None:
    """Cache ``settings`` (validated by the runner) for the app's :func:`get_validated_settings`."""
    validated.remember(settings)


async def get_validated_settings(fail_fast: bool = True, **load_kwargs: Any) -> Settings:
    """Validate once and cache until :func:`cleanup_resources`; callable from any loop.

    Under ``python -m resync_fsm`` the runner has validated already and this
    returns its settings. ``fail_fast=True`` logs the problems and exits with 78
    (Resync's contract, raising SystemExit); ``fail_fast=False`` raises
    :class:`ConfigurationValidationError`. ``load_kwargs`` go to
    :func:`resync_fsm.settings.load_settings`.
    """
    with validated.lock:
        settings = validated.current()
        if settings is None:
            log.info("performing_initial_settings_validation")
            try:
                settings = load_settings(**load_kwargs)
            except ConfigurationValidationError as exc:
                if not fail_fast:
                    raise
                log.error(
                    exc.log_event,
                    error_type=type(exc).__name__,
                    error_message=exc.message,
                    error_details=exc.details,
                    status_symbol=symbol(False, sys.stdout),
                )
                print(exc.one_line(), file=sys.stderr)
                raise SystemExit(exc.exit_code) from None
            validated.remember(settings)
            log.info("settings_validation_cached_successfully")
        return settings


def cleanup_resources() -> None:
    """Reset the validated-settings cache: the next call validates again."""
    log.info("performing_resource_cleanup")
    validated.forget()
    log.info("resource_cleanup_completed")


async def _check(spec: ProbeSpec) -> bool:
    async with open_attempt((spec,)) as attempt:
        with trio.move_on_after(spec.timeout):
            try:
                await attempt(spec)
            except ProbeFailure:
                return False
            return True
    return False


async def check_tcp(host: str, port: int, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to ``host:port`` opens within ``timeout`` seconds."""
    return await _check(ProbeSpec(name="tcp", kind="tcp", host=host, port=port, timeout=timeout))


async def check_http(url: str, timeout: float = 5.0) -> bool:
    """Whether a GET of ``url`` (redirects followed) answers below 500 within ``timeout``."""
    return await _check(ProbeSpec(name="http", kind="http", url=url, timeout=timeout))
