"""``serving``: the app is served through a backend; readiness follows the critical probes (DESIGN §5).

The server's lifetime spans ``serving`` and ``draining``, so it runs in a
:class:`ServerHandle` in the run's nursery rather than in the activity's scope.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import trio

from ..errors import StartupError
from ..logs import get_logger
from ..probes import ProbeBoard
from ..settings.model import Settings
from ..web.asgi import Receive, Scope, Send
from ..web.exposure import public_status
from ..web.health import HealthWrapper
from .activities import activity

if TYPE_CHECKING:
    from ..backends.interface import Server
    from .core import Runner

__all__ = ["ServerHandle", "public_status", "serving"]

log = get_logger("resync_fsm.runner")


class ServerHandle:
    """One server's lifetime: started in ``serving``, shut down in ``draining``, cancelled on a final state.

    ``urls`` is empty until every listener accepts and the app's startup completed;
    ``done`` is set when the server has stopped, however it stopped.
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.urls: list[str] = []
        self.done = trio.Event()
        self.shutdown_requested = False
        self._scope = trio.CancelScope()

    @property
    def started(self) -> bool:
        """Whether the server is listening with the app started."""
        return bool(self.urls)

    async def run(self, runner: Runner) -> None:
        """Serve until shut down; READY=1 once listening. A server error posts ``fail``."""
        from .core import Event

        with self._scope:
            try:
                async with trio.open_nursery() as nursery:
                    self.urls = await nursery.start(_serve, self.server)
                    engine = runner.settings.server.engine if runner.settings else None
                    management = runner.wrapper.management.urls if runner.wrapper is not None else []
                    log.info("listening", binds=self.urls, management=management, loop=runner.loop_name,
                             engine=engine)
                    if runner.state == "serving":
                        runner.notifier.send("READY=1\nSTATUS=serving")
                    view_changed(runner)
                if not self.shutdown_requested:
                    raise StartupError("the server stopped without being asked to")
            except Exception as exc:
                runner.post(Event("fail", error=exc))
            finally:
                self.done.set()

    def shutdown(self) -> None:
        """Close the listeners; in-flight work gets the graceful timeout."""
        self.shutdown_requested = True
        self.server.shutdown()

    def cancel(self) -> None:
        """Stop the server at once (a forced stop, a cancelled startup, a drain that overran): its
        optional ``abort()`` cuts the connections of a server still running, then its task is
        cancelled. A server that has already returned (a graceful stop) is left alone."""
        abort = getattr(self.server, "abort", None)
        if abort is not None and self.started and not self.done.is_set():
            abort()
        self._scope.cancel()


async def _serve(server: Server, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
    await server.serve(task_status=task_status)


@activity("serving")
async def serving(runner: Runner, post: Callable[..., None]) -> None:
    """Load the app, wrap it with the health endpoints, start the server; while serving, keep
    retrying failed probes and (``watch_interval``) re-probe the critical ones."""
    from ..backends import select_backend
    from ..backends.apps import load_app

    assert runner.settings is not None
    settings = runner.settings
    server = settings.server
    backend = runner.backend if runner.backend is not None else select_backend(settings)
    if runner.app is not None:
        app = runner.app
    elif getattr(backend, "imports_app", True):
        app = load_app(server.app, factory=server.factory, app_dir=server.app_dir)
    else:
        app = _served_elsewhere  # worker processes import it (server.workers > 1)
    runner.wrapper = HealthWrapper(app, runner, livez=server.livez_path, readyz=server.readyz_path,
                                   status=server.status_path, limit=server.limit_concurrency,
                                   metrics=runner.metrics, metrics_path=server.metrics_path,
                                   public_status=public_status(settings, app),
                                   public_metrics=not server.management_bind)
    runner.server = handle = ServerHandle(backend(runner.wrapper, settings, runner.fault_while_serving))
    if hasattr(handle.server, "view_changed"):
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


def view_changed(runner: Runner) -> None:
    """Tell a server of several processes that the state or readiness may have changed (a no-op otherwise)."""
    changed = getattr(runner.server.server if runner.server else None, "view_changed", None)
    if changed is not None:
        changed()


async def _served_elsewhere(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("the app is served by worker processes, not this one")


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
