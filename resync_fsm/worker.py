"""One worker process of ``server.workers > 1``: ``python -m resync_fsm.worker``, started by the supervisor.

It runs only the serving part of the lifecycle (issue 17): a fresh import of the
app, the health wrapper, the engine's backend on the listeners the supervisor
bound (``fd://N``, inherited), the app's lifespan, until the supervisor says
``drain`` (the service stops) or ``retire`` (recycled or reloaded: it stops
accepting and answers every connection it had accepted first, see
:class:`Listeners`). Its settings arrive pickled on stdin (validated once, by the
supervisor's process; the app's ``get_validated_settings()`` returns them), with
the channel's descriptor (:mod:`.backends.channel`). Its health endpoints answer
from the lifecycle state the supervisor sends: no worker decides readiness
alone. SIGINT, SIGTERM and SIGHUP are ignored (a terminal's Ctrl-C or systemd's
``KillMode=control-group`` reach every process; the supervisor drains them);
if the supervisor's end of the channel closes, the worker drains itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import pickle
import signal
import socket
import sys
import weakref
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import trio

from .backends.channel import Channel
from .logs import get_logger
from .web.asgi import ASGIApp, Receive, Scope, Send

__all__ = ["SharedView", "main"]

log = get_logger("resync_fsm.worker")

ACCEPTED_SETTLE = 0.2  # seconds between closing the listener and the engine's drain at a stop (see Listeners)


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


class Listeners:
    """The asyncio (or uvloop) servers the engine creates on this loop, and the connections they
    accepted that are still open (each from its protocol's creation to ``connection_lost``, or to
    its protocol's end for a TLS handshake that failed, which never hears ``connection_lost``).

    A draining worker closes the servers before its engine's drain: the listener is shared with the
    other workers, so a connection it accepted after the engine's drain began would be lost. A
    retiring worker (a recycle, a reload: the service goes on) then waits for every connection it
    accepted to close before the engine's drain, because both engines close at once a connection
    whose request they have not read yet (or not even made a protocol for): with the request sent,
    the client gets a reset (issue 17: recycling loses no request). :meth:`install` on the trio
    guest, before the engine starts.
    """

    def __init__(self) -> None:
        self.servers: list[Any] = []
        self.open: set[object] = set()  # one key per open connection
        self._loop = asyncio.get_event_loop()
        self._token = trio.lowlevel.current_trio_token()
        self._changed = trio.Event()

    def install(self) -> None:
        """Wrap this loop's ``create_server``: record each server, count each connection's life."""
        create_server = self._loop.create_server

        async def recording(protocol_factory: Any, *args: Any, **kwargs: Any) -> Any:
            server = await create_server(partial(self._counted, protocol_factory), *args, **kwargs)
            self.servers.append(server)
            return server

        self._loop.create_server = recording  # type: ignore[method-assign]

    def stop_accepting(self) -> None:
        """Accept no more connections (the listener stays open in the supervisor and the other workers).

        On asyncio's own loop the listening socket leaves the selector and its server stays open:
        ``Server.close()`` there drops a connection accepted just before it whose transport is made
        just after (CPython 3.11: ``Server._attach`` asserts, the error is swallowed, the client gets a
        reset once the socket is collected). uvloop makes the transport as it accepts: ``close()``.
        """
        for server in self.servers:
            if isinstance(self._loop, asyncio.selector_events.BaseSelectorEventLoop):
                for sock in server.sockets:
                    self._loop.remove_reader(sock.fileno())
            else:
                server.close()

    async def close(self) -> None:
        """:meth:`stop_accepting`, then let the loop run what it has scheduled: every connection accepted
        so far has its protocol, counted. A collection ends the protocols of failed TLS handshakes,
        which asyncio leaves in a cycle (never told ``connection_lost``)."""
        self.stop_accepting()
        done = trio.Event()
        self._loop.call_soon(self._token.run_sync_soon, done.set)
        await done.wait()
        gc.collect()

    async def all_closed(self) -> None:
        """Until no connection accepted here is open (unbounded: bound it)."""
        while self.open:
            await self._changed.wait()

    def _counted(self, protocol_factory: Any) -> Any:
        protocol, key = protocol_factory(), object()
        self.open.add(key)
        weakref.finalize(protocol, self._closed, key).atexit = False
        lost, alive = type(protocol).connection_lost, weakref.ref(protocol)  # no cycle: the finalizer can run

        def connection_lost(exc: BaseException | None) -> None:
            self._closed(key)
            lost(alive(), exc)

        protocol.connection_lost = connection_lost
        return protocol

    def _closed(self, key: object) -> None:
        if key in self.open:
            self.open.discard(key)
            with contextlib.suppress(trio.RunFinishedError):
                self._token.run_sync_soon(self._wake)

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()


async def _until_closed(listeners: Listeners, stopped: Callable[[], Awaitable[object]]) -> None:
    """Until every connection ``listeners`` accepted has closed, or ``stopped()`` returns."""
    async with trio.open_nursery() as waiting:
        async def closed() -> None:
            await listeners.all_closed()
            waiting.cancel_scope.cancel()

        waiting.start_soon(closed)
        await stopped()
        waiting.cancel_scope.cancel()


async def serve(spec: dict[str, Any]) -> int:
    """Serve until told to drain (or the supervisor is gone); the exit code (0, or the failure's)."""
    from .backends import select_backend
    from .backends.apps import load_app
    from .errors import StartupError, exit_code_for, root_error
    from .web.exposure import public_status
    from .web.health import HealthWrapper

    settings, server_settings = spec["settings"], spec["settings"].server
    listeners = Listeners() if server_settings.loop != "trio" else None
    if listeners is not None:
        listeners.install()
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
            if listeners is not None:  # stop accepting first: what it accepted has its request read
                await listeners.close()
                if told == "retire":  # the service goes on: answer every connection accepted (Listeners)
                    log.info("worker_retiring", pid=os.getpid(), generation=view.generation,
                             connections=len(listeners.open))
                    wrapper.draining = True  # every response from now on: Connection: close
                    asyncio.get_running_loop().call_soon(wrapper.listener_closing)  # websockets: 1001 (app loop)
                    with trio.move_on_after(server_settings.graceful_timeout):
                        await _until_closed(listeners, partial(obey, "drain"))  # a stop cuts it short
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
