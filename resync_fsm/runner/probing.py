"""``probing``: every dependency probed concurrently until the startup deadline (DESIGN §4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import trio

from ..lifecycle import EventName, State
from ..logs import get_logger
from ..probes import ProbeBoard, ProbeResult, unavailable_error
from .activities import Post, activity

if TYPE_CHECKING:
    from .core import Runner

__all__ = ["probe_logger", "probing"]

log = get_logger("resync_fsm.runner")


@activity(State.PROBING)
async def probing(runner: Runner, post: Post) -> None:
    """Probe until every probe settles or ``startup.timeout`` seconds pass; post ``probes_passed``.

    A critical probe still failing then raises
    :class:`~resync_fsm.errors.DependencyUnavailableError` (69), unless
    ``startup.fail_fast`` is false: then serving starts with readiness false, through
    ``probes_deferred`` (the move names what happened: the probes did not pass, their
    verdict is deferred to serving, which keeps retrying them).
    """
    assert runner.settings is not None
    settings = runner.settings
    runner.board = board = ProbeBoard(settings.probes)
    board.listeners.append(probe_logger())
    if runner.metrics is not None:
        runner.metrics.watch_board(board)
    timeout = settings.startup.timeout
    await runner.probe(board, settings, trio.current_time() + timeout, True)
    if not board.critical_ok:
        error = unavailable_error(board, timeout)
        if settings.startup.fail_fast:
            raise error
        log.warning("serving_not_ready", reason="critical probes failing; retrying",
                    probes=[r.name for r in board.results.values() if r.critical and not r.ok])
        post(EventName.PROBES_DEFERRED)
        return
    post(EventName.PROBES_PASSED)


def probe_logger() -> Callable[[ProbeResult], None]:
    """Logs each probe's changes (ok, or a new failure reason), not every retry of the same failure."""
    last: dict[str, tuple[str, str | None]] = {}

    def log_probe(result: ProbeResult) -> None:
        if last.get(result.name) == (result.status, result.reason):
            return
        last[result.name] = (result.status, result.reason)
        if result.ok:
            log.info("probe_ok", probe=result.name, kind=result.kind, target=result.target,
                     attempts=result.attempts, latency_ms=result.latency_ms)
        elif result.status == "fail":
            log.warning("probe_failed", probe=result.name, kind=result.kind, target=result.target,
                        critical=result.critical, attempts=result.attempts, reason=result.reason,
                        message=result.message)

    return log_probe
