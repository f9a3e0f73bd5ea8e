"""``validating``: load the settings from every source and validate them, then import the app (DESIGN §3)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from ..lifecycle import EventName, State
from ..logs import get_logger
from ..serving import import_app
from ..settings import validated
from . import signals
from .activities import Post, activity

if TYPE_CHECKING:
    from .core import Runner

log = get_logger("resync_fsm.runner")


@activity(State.VALIDATING)
async def validating(runner: Runner, post: Post) -> None:
    """``runner.load()`` once; log each settings warning; import the app; post ``settings_valid``.

    A :class:`~resync_fsm.errors.ConfigurationValidationError` fails the lifecycle (78); an app that
    does not import (:func:`~resync_fsm.serving.import_app`: with worker processes, one whose module
    is not found or does not compile) a :class:`~resync_fsm.errors.StartupError` (70), before any
    probe runs (issue 22). The import blocks the loop, interruptible by a stop (:func:`.signals.interruptible`).
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
    if runner.app is None:
        runner.app = signals.interruptible(runner, partial(import_app, settings, runner.backend))
        if runner.ending.stop_requested:
            return  # a stop arrived during the import: it was acted on
    post(EventName.SETTINGS_VALID)
