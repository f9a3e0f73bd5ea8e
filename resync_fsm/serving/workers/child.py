"""What one worker process of ``server.workers > 1`` does: :func:`serve`, called by its entry point
``python -m resync_fsm.worker`` (:mod:`resync_fsm.worker`), started by the supervisor (:mod:`.pool`).

It runs only the serving part of the lifecycle (issue 17): one serving composed as
the runner's is (:func:`resync_fsm.serving.compose`: a fresh import of the app, the
health wrapper, the in-process engine) on the listeners the supervisor bound
(``fd://N``, inherited), the app's lifespan, until the supervisor says ``drain``
(the service stops) or ``retire`` (recycled or reloaded: it stops accepting and
answers every connection it had accepted first, see :mod:`..patches`). Its settings
arrive pickled on stdin (validated once, by the supervisor's process; the app's
``get_validated_settings()`` returns them), with the channel's descriptor (:mod:`.channel`). Its health endpoints answer
from the lifecycle state the supervisor sends: no worker decides readiness
alone. SIGINT, SIGTERM and SIGHUP are ignored (a terminal's Ctrl-C or systemd's
``KillMode=control-group`` reach every process; the supervisor drains them);
if the supervisor's end of the channel closes, the worker drains itself.
"""

from __future__ import annotations

import asyncio
import os
import socket
import traceback
from functools import partial
from typing import Any

import trio

from ...errors import StartupError, exit_code_for, root_error
from ...lifecycle import State
from ...logs import get_logger
from ...settings.model import Settings
from ...web.asgi import ASGIApp
from ..compose import Serving, compose
from ..counting import RequestCounter
from ..in_process import InProcessServer
from ..patches import AcceptedConnections, until_closed
from .channel import Channel
from .counts import RequestTable

__all__ = ["RequestCounter", "SharedView", "serve"]

log = get_logger("resync_fsm.worker")

ACCEPTED_SETTLE = 0.2  # seconds between closing the listener and the engine's drain at a stop (..patches)


class SharedView:
    """The :class:`~resync_fsm.web.view.HealthView` of a worker: the supervisor's last word, with every
    worker's request counts (``requests``, ``in_flight``, and the sum of the latter as the document's
    ``in_flight``) read from the shared ``table`` (:mod:`.counts`) when there is one."""

    def __init__(self, view: dict[str, Any], generation: int, table: RequestTable | None = None) -> None:
        self.generation, self.table = generation, table
        self.update(view)

    def update(self, view: dict[str, Any]) -> None:
        """Take the parent's lifecycle view (state, readiness, status), unless it is older (``seq``) than
        the one held: views sent by concurrent tasks may arrive out of order."""
        seq = int(view.get("seq", 0))
        if seq and seq < getattr(self, "seq", 0):
            return
        self.seq = seq
        self._live = (bool(view["live"][0]), str(view["live"][1]))
        self._ready = (bool(view["ready"][0]), str(view["ready"][1]))
        self._status: dict[str, Any] = view["status"]

    @property
    def state(self) -> str:
        """The parent's lifecycle state."""
        return self._live[1]

    def live(self) -> tuple[bool, str]:
        """(live, state) as the parent says: no worker decides alone."""
        return self._live

    def ready(self) -> tuple[bool, str]:
        """(ready, state) as the parent says: no worker decides alone."""
        return self._ready

    def status(self) -> dict[str, Any]:
        """The parent's ``/status`` document, with this worker's pid and generation."""
        status = {**self._status, "worker": {"pid": os.getpid(), "generation": self.generation}}
        if self.table is not None and isinstance(status.get("workers"), list):
            counted = self.table.by_pid()
            status["workers"] = [{**w, "requests": max(w.get("requests", 0), counted.get(w.get("pid"), (0, 0))[0]),
                                  "in_flight": counted.get(w.get("pid"), (0, w.get("in_flight", 0)))[1]}
                                 for w in status["workers"]]
            status["in_flight"] = sum(w["in_flight"] for w in status["workers"])  # every worker's
        return status


class _Child:
    """One worker's serving (see the module): composed like the runner's (:func:`~resync_fsm.serving.compose`),
    told what to do by the supervisor over the channel."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.settings: Settings = spec["settings"]
        self.channel = Channel(socket.socket(fileno=spec["channel"]))
        counts = spec.get("counts")
        self.table: RequestTable | None = RequestTable(counts[0]) if counts else None
        self.cell: int = counts[1] if counts else 0
        self.view = SharedView(spec["view"], spec["generation"], self.table)
        self.limit: int = spec["limit"]
        self.recycle = trio.Event()
        self.served = trio.Event()
        self.faults: list[BaseException] = []
        self.counter: RequestCounter | None = None
        self._serving: Serving | None = None

    def count(self, app: ASGIApp) -> ASGIApp:
        """Wrap the loaded app with this worker's request counter (``max_requests``)."""
        token = trio.lowlevel.current_trio_token()
        self.counter = RequestCounter(app, self.limit, lambda: token.run_sync_soon(self.recycle.set),
                                      self.table, self.cell)
        return self.counter

    @property
    def serving(self) -> Serving:
        """This worker's serving, once :meth:`run` composed it."""
        assert self._serving is not None, "not composed yet"
        return self._serving

    @property
    def accepted(self) -> AcceptedConnections | None:
        """What the in-process server accepted (asyncio/uvloop; None on trio), once serving."""
        server = self.serving.server
        return server.accepted if isinstance(server, InProcessServer) else None

    @property
    def requests(self) -> int:
        """The app's requests and websockets so far."""
        return self.counter.count if self.counter is not None else 0

    def fault(self, error: BaseException) -> None:
        """The app's lifespan died while serving: stop, then fail with it."""
        self.faults.append(error)
        if self._serving is not None:
            self._serving.server.shutdown()

    async def run(self) -> None:
        """Serve until told to drain (or the supervisor is gone)."""
        self._serving = compose(self.settings, self.view, self.fault, wrap_app=self.count)
        async with trio.open_nursery() as nursery:
            urls = await nursery.start(self._serve)
            await self.channel.send({"ready": urls})
            log.info("worker_serving", pid=os.getpid(), generation=self.view.generation, binds=urls)
            nursery.start_soon(self._tell_recycle)
            nursery.start_soon(self._stop_when_served, nursery.cancel_scope)
            self.messages = self.channel.messages()
            told = await self.obey("drain", "retire")
            await self._stop_accepting(told)
            self.serving.server.shutdown()  # told to drain, or the supervisor is gone
            await self.served.wait()
            nursery.cancel_scope.cancel()

    async def _serve(self, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            await self.serving.server.serve(task_status=task_status)
        finally:
            self.served.set()

    async def _tell_recycle(self) -> None:
        await self.recycle.wait()
        await self.channel.send({"recycle": self.requests})

    async def _stop_when_served(self, scope: trio.CancelScope) -> None:
        await self.served.wait()
        scope.cancel()

    async def obey(self, *until: str) -> str | None:
        """Act on the supervisor's messages until one says ``until`` (returned); None: it is gone."""
        wrapper = self.serving.wrapper
        async for message in self.messages:
            if "view" in message:
                self.view.update(message["view"])
                wrapper.draining = wrapper.draining or self.view.state == State.DRAINING
            if "ping" in message:
                await self.channel.send({"pong": message["ping"], "requests": self.requests})
            for word in until:
                if message.get(word):
                    return word
        return None

    async def _stop_accepting(self, told: str | None) -> None:
        """Stop accepting first: what was accepted has its request read (:mod:`..patches`)."""
        accepted = self.accepted
        if accepted is None:
            return
        await accepted.close()
        if told != "retire":
            await trio.sleep(ACCEPTED_SETTLE)
            return
        # the service goes on: answer every connection accepted
        log.info("worker_retiring", pid=os.getpid(), generation=self.view.generation, connections=len(accepted.open))
        wrapper = self.serving.wrapper
        wrapper.draining = True  # every response from now on: Connection: close
        asyncio.get_running_loop().call_soon(wrapper.listener_closing)  # websockets: 1001 (app loop)
        with trio.move_on_after(self.settings.server.graceful_timeout):
            await until_closed(accepted, partial(self.obey, "drain"))  # a stop cuts it short

    async def finish(self) -> int:
        """Tell the supervisor how it ended; the exit code (0, or the failure's)."""
        if self.faults:
            error = self.faults[0]
            line = error.one_line() if isinstance(error, StartupError) else f"{type(error).__name__}: {error}"
            shown = error.__cause__ or error  # the app's own error (a SyntaxError, say), as Python would print it
            await self.channel.send({"failed": line, "traceback": "".join(traceback.format_exception(shown))})
            if self.channel.closed:  # the supervisor, which says it once (worker_died, reload_failed), is gone
                log.error("worker_failed", pid=os.getpid(), generation=self.view.generation, error=line)
            await self.channel.aclose()
            return exit_code_for(error)
        await self.channel.aclose()
        log.info("worker_stopped", pid=os.getpid(), generation=self.view.generation, requests=self.requests)
        return 0


async def serve(spec: dict[str, Any]) -> int:
    """Serve until told to drain (or the supervisor is gone); the exit code (0, or the failure's)."""
    child = _Child(spec)
    try:
        await child.run()
    except Exception as exc:
        child.faults.append(root_error(exc))
    return await child.finish()
