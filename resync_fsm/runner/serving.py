"""``serving``: the app is served on an engine; readiness follows the critical probes (DESIGN §5).

The serving itself is composed by :func:`resync_fsm.serving.compose` (the app, the
health wrapper, the engine's server). The server's lifetime spans ``serving`` and
``draining``, so it runs in a :class:`ServerHandle` in the run's nursery rather than
in the activity's scope.
"""

from __future__ import annotations

import gc
import math
from functools import partial
from typing import TYPE_CHECKING

import trio

from ..errors import StartupError
from ..lifecycle import EventName, State
from ..logs import get_logger
from ..probes import ProbeBoard
from ..serving import Abortable, FollowsView, Server, Serving, compose, request_limit
from ..settings.model import Settings
from ..web.exposure import public_status
from .activities import Post, activity
from .events import Event

if TYPE_CHECKING:
    from .core import Runner

__all__ = ["ServerHandle", "public_status", "serving"]

log = get_logger("resync_fsm.runner")


class ServerHandle:
    """One server's lifetime: started in ``serving``, shut down in ``draining``, cancelled on a final state.

    ``urls`` is empty until every listener accepts and the app's startup completed;
    ``done`` is set when the server has stopped, however it stopped.
    """

    def __init__(self, server: Server, serving: Serving | None = None) -> None:
        self.server = server
        self.serving = serving  # what compose() made, server included (None: a bare server, in tests)
        self.urls: list[str] = []
        self.done = trio.Event()
        self.shutdown_requested = False
        self._scope = trio.CancelScope()

    @property
    def management_urls(self) -> list[str]:
        """The management listeners' URLs, once bound."""
        return self.serving.management_urls if self.serving is not None else []

    @property
    def started(self) -> bool:
        """Whether the server is listening with the app started."""
        return bool(self.urls)

    async def run(self, runner: Runner) -> None:
        """Serve until shut down; READY=1 once listening. A server error posts ``fail``."""
        with self._scope:
            try:
                async with trio.open_nursery() as nursery:
                    self.urls = await nursery.start(_serve, self.server)
                    if isinstance(self.server, FollowsView):  # every process answers ready before anything says so
                        await self.server.view_delivered()
                    choice = runner.view.choice  # the engine and loop, and why (settings/auto.py)
                    log.info("listening", binds=self.urls, management=self.management_urls,
                             loop=runner.loop_name, engine=choice["engine"] or None,
                             engine_source=choice["engine_source"], loop_source=choice["loop_source"])
                    if runner.state == State.SERVING:
                        runner.notifier.send("READY=1\nSTATUS=serving")
                if not self.shutdown_requested:
                    raise StartupError("the server stopped without being asked to")
            except Exception as exc:
                runner.post(Event(EventName.FAIL, error=exc))
            finally:
                self.done.set()

    def shutdown(self) -> None:
        """Close the listeners; in-flight work gets the graceful timeout."""
        self.shutdown_requested = True
        self.server.shutdown()

    def cancel(self) -> None:
        """Stop the server at once (a forced stop, a cancelled startup, a drain that overran): an
        :class:`~resync_fsm.serving.Abortable` server still running has its connections cut, then its
        task is cancelled. A server that has already returned (a graceful stop) is left alone."""
        if isinstance(self.server, Abortable) and self.started and not self.done.is_set():
            self.server.abort()
        self._scope.cancel()


async def _serve(server: Server, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
    await server.serve(task_status=task_status)


@activity(State.SERVING)
async def serving(runner: Runner, post: Post) -> None:
    """Compose the serving (the app, the health endpoints, the engine), start its server; while
    serving, keep retrying failed probes and (``watch_interval``) re-probe the critical ones. With one
    process, ``server.max_requests`` requests drain it (:func:`~resync_fsm.serving.request_limit`)."""
    assert runner.settings is not None
    settings = runner.settings
    token = trio.lowlevel.current_trio_token()
    limit = request_limit(settings, runner.backend, lambda count: token.run_sync_soon(partial(_limit, runner, count)))
    composed = compose(settings, runner.view, runner.fault_while_serving, engine=runner.backend, app=runner.app,
                       metrics=runner.metrics, wrap_app=limit)
    runner.server = handle = ServerHandle(composed.server, composed)
    if isinstance(handle.server, FollowsView):
        runner.listeners.append(lambda move: view_changed(runner))
    if runner.freeze_gc:
        # Everything imported and built so far lives as long as the process. Frozen, a full collection
        # while serving no longer walks it: measured under load, 20-29 ms pauses became 2-3 ms
        # (bench/gcpause.py logs them). Unfrozen on a final state: exit collects as usual.
        gc.freeze()
    runner.nursery.start_soon(handle.run, runner)
    async with trio.open_nursery() as nursery:
        if not all(result.ok for result in runner.board.results.values()):
            nursery.start_soon(_retry_until_ok, runner, settings)
        if settings.server.watch_interval > 0:
            nursery.start_soon(_watch, runner, settings)


def _limit(runner: Runner, count: int) -> None:
    """``server.max_requests`` reached with one process: drain and exit 0, as Uvicorn's
    ``--limit-max-requests`` does, for the process's supervisor to start it again."""
    log.info("max_requests_reached", requests=count, action="draining; exit 0 for a restart")
    runner.request_drain()


def view_changed(runner: Runner) -> None:
    """Tell a server of several processes that the state or readiness may have changed (a no-op otherwise)."""
    server = runner.server.server if runner.server else None
    if isinstance(server, FollowsView):
        server.view_changed()


async def _retry_until_ok(runner: Runner, settings: Settings) -> None:
    """Keep probing what failed at startup: a non-critical probe so that /status tells the truth,
    a critical one (--no-fail-fast) so that readiness turns true when it passes."""
    was_ready = runner.board.critical_ok
    await runner.probe(runner.board, settings, math.inf, False)
    if not was_ready:
        log.info("readiness_changed", ready=runner.board.critical_ok, reason="critical probes pass")
        view_changed(runner)


async def _watch(runner: Runner, settings: Settings) -> None:
    """Re-run the critical probes every watch_interval; readiness (never liveness) follows."""
    critical = [spec for spec in settings.probes if spec.critical]
    while critical:
        await trio.sleep(settings.server.watch_interval)
        was_ok = runner.board.critical_ok
        round_board = ProbeBoard(critical)
        if runner.metrics is not None:  # every attempt counted; the copies below are the same results
            runner.metrics.watch_board(round_board)
        longest = max(spec.timeout for spec in critical)
        await runner.probe(round_board, settings, trio.current_time() + longest, True)
        for result in round_board.results.values():
            runner.board.update(result)
        if runner.board.critical_ok != was_ok:
            failing = [r.name for r in round_board.results.values() if not r.ok]
            log.warning("readiness_changed", ready=runner.board.critical_ok, failing=failing,
                        reason="watch: critical probes " + ("pass" if not failing else "fail"))
            view_changed(runner)
