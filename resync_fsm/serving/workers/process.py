"""One worker process as the supervisor sees it: spawned with the listeners and its end of the channel.

The worker is ``python -m resync_fsm.worker`` (:mod:`.child`): the
listening sockets are inherited by descriptor (``pass_fds``; its binds are
``fd://N``), its settings are pickled to its stdin, and a socketpair carries
the channel (:mod:`.channel`).
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from typing import Any

import attrs
import trio

from ...settings.model import Parsed, ServerSettings, Settings
from .channel import Channel
from .counts import RequestTable

__all__ = ["Worker", "describe_exit", "first_of", "reap", "worker_settings"]


def worker_settings(settings: Settings, fds: list[int]) -> Settings:
    """``settings`` for a worker: one in-process server (``workers = 1``, no ``reload``: its supervisor
    watches) on the inherited ``fd://N`` listeners."""
    server = settings.server
    values: dict[str, Any] = {a.name: Parsed(getattr(server, a.name)) for a in attrs.fields(ServerSettings)}
    values.update(bind=Parsed(tuple(f"fd://{fd}" for fd in fds)), workers=Parsed(1), reload=Parsed(False))
    return attrs.evolve(settings, server=ServerSettings(**values))


def describe_exit(code: int) -> str:
    """``"exit code 3"`` or ``"signal SIGKILL"`` for a ``Popen.returncode``."""
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


@attrs.define(eq=False)
class Worker:
    """One worker process of ``generation`` in ``slot`` (0 … workers - 1); ``limit``: its max_requests (0: none)."""

    slot: int
    generation: int
    limit: int
    process: trio.Process | None = None
    channel: Channel | None = None
    started_wall: float = attrs.field(factory=time.time)
    last_heard: float = 0.0  # trio clock: the last message from it
    requests: int = 0
    pong: int = 0  # the last heartbeat (or view delivery) it answered: it holds that view or a later one
    retiring: bool = False  # told to drain (recycled, reloaded, stopping): its exit is expected
    recycling: bool = False
    failed: str | None = None  # the worker's own line on why it could not start or serve
    traceback: str | None = None  # and the traceback of that failure, as the worker formatted it
    ready: trio.Event = attrs.field(factory=trio.Event)
    exited: trio.Event = attrs.field(factory=trio.Event)

    @property
    def pid(self) -> int | None:
        """The worker's process id, once started."""
        return self.process.pid if self.process is not None else None

    async def spawn(self, settings: Settings, fds: list[int], view: dict[str, Any],
                    table: RequestTable | None = None) -> None:
        """Start the process; it inherits ``fds`` (and ``table``'s, with a cell of its own) and gets
        ``settings`` and the first ``view`` on stdin."""
        mine, theirs = socket.socketpair()
        cell = table.claim() if table is not None else None
        try:
            spec = {"settings": settings, "channel": theirs.fileno(), "generation": self.generation,
                    "limit": self.limit, "view": view,
                    "counts": (table.fd, cell) if table is not None else None}
            inherited = (table.fd,) if table is not None else ()
            self.process = await trio.lowlevel.open_process(
                [sys.executable, "-m", "resync_fsm.worker"], stdin=subprocess.PIPE,
                pass_fds=(*fds, *inherited, theirs.fileno()), env=_child_env())
            if table is not None and cell is not None:
                table.own(cell, self.process.pid)
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()
        self.channel = Channel(mine)
        self.last_heard = trio.current_time()
        assert self.process.stdin is not None
        try:
            await self.process.stdin.send_all(pickle.dumps(spec))
            await self.process.stdin.aclose()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # it died at once: its exit says why

    def order(self) -> tuple[int, int]:
        """The sort key of ``/status``'s list: slot, then generation."""
        return self.slot, self.generation

    def kill(self) -> None:
        """SIGKILL, unless it has exited."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    def state(self) -> str:
        """The worker's state as the supervisor sees it (starting, serving, draining, gone)."""
        if self.retiring:
            return "retiring"
        return "serving" if self.ready.is_set() else "starting"

    async def kill_unless_ready(self, seconds: float) -> None:
        """Kill this worker unless it serves (or has exited) within ``seconds`` (its startup overran)."""
        with trio.move_on_after(seconds):
            await first_of(self.ready, self.exited)
            return
        self.failed = "its startup did not complete in time (server.startup_timeout)"
        self.kill()

    def as_status(self, restarts: int, counted: dict[int, tuple[int, int]]) -> dict[str, Any]:
        """``{"pid", "generation", "slot", "state", "uptime" (s), "requests", "in_flight", "restarts"}`` for
        ``/status``; ``counted``: the shared table's ``(requests, in_flight)`` by pid (:mod:`.counts`), fresher
        than the heartbeat's (without it, ``in_flight`` is 0)."""
        requests, in_flight = counted.get(self.pid or 0, (0, 0))
        self.requests = max(self.requests, requests)
        return {"in_flight": in_flight if self.process is not None and self.process.returncode is None else 0,
                "pid": self.pid, "generation": self.generation, "slot": self.slot, "state": self.state(),
                "uptime": round(time.time() - self.started_wall, 3), "requests": self.requests,
                "restarts": restarts}


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)  # the supervisor speaks to systemd; NotifyAccess=main
    return env


async def reap(workers: Iterable[Worker], within: float) -> None:
    """Kill what still runs of ``workers`` and wait for it, at most ``within`` seconds."""
    with trio.move_on_after(within):
        for worker in list(workers):
            worker.kill()
            if worker.process is not None:
                await worker.process.wait()


async def first_of(*events: trio.Event) -> None:
    """Return once any of ``events`` is set."""
    async with trio.open_nursery() as nursery:
        for event in events:
            async def wait(event: trio.Event = event) -> None:
                await event.wait()
                nursery.cancel_scope.cancel()
            nursery.start_soon(wait)
