"""One worker process of ``server.workers > 1``: ``python -m resync_fsm.worker``, started by the supervisor.

It runs only the serving part of the lifecycle (issue 17): a fresh import of the
app, the health wrapper, the engine's backend on the listeners the supervisor
bound (``fd://N``, inherited), the app's lifespan, until the supervisor says
``drain`` (the service stops) or ``retire`` (recycled or reloaded: it stops
accepting and answers every connection it had accepted first, see
:mod:`.backends.accepted`). Its settings arrive pickled on stdin (validated
once, by the supervisor's process; the app's ``get_validated_settings()`` returns them), with
the channel's descriptor (:mod:`.backends.channel`). Its health endpoints answer
from the lifecycle state the supervisor sends: no worker decides readiness
alone. SIGINT, SIGTERM and SIGHUP are ignored (a terminal's Ctrl-C or systemd's
``KillMode=control-group`` reach every process; the supervisor drains them);
if the supervisor's end of the channel closes, the worker drains itself.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import socket
import sys
from functools import partial
from typing import Any

import trio

from .backends.accepted import AcceptedConnections, until_closed
from .backends.channel import Channel
from .logs import get_logger
from .web.asgi import ASGIApp, Receive, Scope, Send

__all__ = ["SharedView", "main"]

log = get_logger("resync_fsm.worker")

ACCEPTED_SETTLE = 0.2  # seconds between closing the listener and the engine's drain at a stop (.backends.accepted)


class SharedView:
    """The :class:`~resync_fsm.web.health.HealthView` of a worker: the supervisor's last word."""

    def __init__(self, view: dict[str, Any], generation: int) -> None:
        self.generation = generation
        self.update(view)

    def update(self, view: dict[str, Any]) -> None:
        """Take the parent's latest lifecycle view (state, readiness, status)."""
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
        return {**self._status, "worker": {"pid": os.getpid(), "generation": self.generation}}


class RequestCounter:
    """Counts the app's requests and websockets; at ``limit`` (0: none) calls ``reached`` once."""

    def __init__(self, app: ASGIApp, limit: int, reached: Any) -> None:
        self.app, self.limit, self.reached, self.count = app, limit, reached, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            self.count += 1
            if self.count == self.limit:
                self.reached()
        await self.app(scope, receive, send)


async def serve(spec: dict[str, Any]) -> int:
    """Serve until told to drain (or the supervisor is gone); the exit code (0, or the failure's)."""
    from .backends import select_backend
    from .backends.apps import load_app
    from .errors import StartupError, exit_code_for, root_error
    from .web.exposure import public_status
    from .web.health import HealthWrapper

    settings, server_settings = spec["settings"], spec["settings"].server
    accepted = AcceptedConnections() if server_settings.loop != "trio" else None
    if accepted is not None:
        accepted.install()
    channel = Channel(socket.socket(fileno=spec["channel"]))
    view = SharedView(spec["view"], spec["generation"])
    token = trio.lowlevel.current_trio_token()
    recycle = trio.Event()
    faults: list[BaseException] = []
    served = trio.Event()
    try:
        app = load_app(server_settings.app, factory=server_settings.factory, app_dir=server_settings.app_dir)
        counter = RequestCounter(app, spec["limit"], lambda: token.run_sync_soon(recycle.set))
        wrapper = HealthWrapper(counter, view, livez=server_settings.livez_path, readyz=server_settings.readyz_path,
                                status=server_settings.status_path, limit=server_settings.limit_concurrency,
                                public_status=public_status(settings, app), public_metrics=False)

        def fault(error: BaseException) -> None:  # the app's lifespan died while serving
            faults.append(error)
            server.shutdown()

        server = select_backend(settings)(wrapper, settings, fault)

        async def run_server(task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
            try:
                await server.serve(task_status=task_status)
            finally:
                served.set()

        async with trio.open_nursery() as nursery:
            urls = await nursery.start(run_server)
            await channel.send({"ready": urls})
            log.info("worker_serving", pid=os.getpid(), generation=view.generation, binds=urls)

            async def tell_recycle() -> None:
                await recycle.wait()
                await channel.send({"recycle": counter.count})

            async def stop_when_served() -> None:
                await served.wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(tell_recycle)
            nursery.start_soon(stop_when_served)
            messages = channel.messages()

            async def obey(*until: str) -> str | None:
                """Act on the supervisor's messages until one says ``until`` (returned); None: it is gone."""
                async for message in messages:
                    if "view" in message:
                        view.update(message["view"])
                        wrapper.draining = wrapper.draining or view.state == "draining"
                    if "ping" in message:
                        await channel.send({"pong": message["ping"], "requests": counter.count})
                    for word in until:
                        if message.get(word):
                            return word
                return None

            told = await obey("drain", "retire")
            if accepted is not None:  # stop accepting first: what it accepted has its request read
                await accepted.close()
                if told == "retire":  # the service goes on: answer every connection accepted
                    log.info("worker_retiring", pid=os.getpid(), generation=view.generation,
                             connections=len(accepted.open))
                    wrapper.draining = True  # every response from now on: Connection: close
                    asyncio.get_running_loop().call_soon(wrapper.listener_closing)  # websockets: 1001 (app loop)
                    with trio.move_on_after(server_settings.graceful_timeout):
                        await until_closed(accepted, partial(obey, "drain"))  # a stop cuts it short
                else:
                    await trio.sleep(ACCEPTED_SETTLE)
            server.shutdown()  # told to drain, or the supervisor is gone
            await served.wait()
            nursery.cancel_scope.cancel()
    except Exception as exc:
        faults.append(root_error(exc))
    if faults:
        error = faults[0]
        line = error.one_line() if isinstance(error, StartupError) else f"{type(error).__name__}: {error}"
        log.error("worker_failed", pid=os.getpid(), generation=view.generation, error=line)
        await channel.send({"failed": line})
        await channel.aclose()
        return exit_code_for(error)
    await channel.aclose()
    log.info("worker_stopped", pid=os.getpid(), generation=view.generation, requests=counter.count)
    return 0


def main() -> int:
    """Read the spec from stdin, then serve on ``server.loop``; returns the exit code."""
    from . import loops
    from .compat import remember_validated_settings
    from .logs import configure_logging
    from .redaction import register_secret
    from .settings.fields import FIELDS

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)  # the supervisor decides (see the module)
    spec = pickle.load(sys.stdin.buffer)  # from the supervisor's pipe: the same code, the same user
    sys.stdin.close()
    settings = spec["settings"]
    configure_logging(settings.log.level, settings.log.format)
    for field in FIELDS:
        if field.secret:
            register_secret(getattr(getattr(settings, field.section), field.key))
    remember_validated_settings(settings)
    code: int = loops.run(partial(serve, spec), settings.server.loop)
    return code


if __name__ == "__main__":
    sys.exit(main())
