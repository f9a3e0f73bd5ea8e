"""``validating``: load the settings from every source and validate them (DESIGN §3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lifecycle import EventName, State
from ..logs import get_logger
from ..settings import validated
from .activities import Post, activity

if TYPE_CHECKING:
    from .core import Runner

log = get_logger("resync_fsm.runner")


@activity(State.VALIDATING)
async def validating(runner: Runner, post: Post) -> None:
    """``runner.load()`` once; log each settings warning; post ``settings_valid``.

    A :class:`~resync_fsm.errors.ConfigurationValidationError` fails the lifecycle (78).
    """
    settings = runner.settings = await runner.load()
    validated.remember(settings)  # the app's get_validated_settings() gets these (issue 24)
    runner.loop_name = settings.server.loop
    if settings.server.metrics and runner.metrics is None:
        from ..web.metrics import RunnerMetrics  # prometheus_client: only for a runner that serves

        runner.metrics = metrics = RunnerMetrics(runner.view, history=runner.lifecycle.history)
        runner.listeners.append(metrics.on_move)
    for warning in settings.warnings():
        log.warning("settings_warning", warning=warning)
    post(EventName.SETTINGS_VALID)
