"""Running the real CLI as a subprocess: JSON log lines on stdout, one error line on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import trio

# Real-time bound on any wait in an end-to-end test: a hang fails, it does not stall CI.
LIMIT = 20.0


class Cli:
    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.events: list[dict[str, Any]] = []
        self.stdout_lines: list[str] = []
        self.stderr = b""
        self._buffer = b""
        self._changed = trio.Event()
        self.closed = False

    async def pump(self) -> None:
        assert self.process.stdout is not None
        async for chunk in self.process.stdout:
            self._buffer += chunk
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                text = line.decode("utf-8", "replace")
                self.stdout_lines.append(text)
                try:
                    self.events.append(json.loads(text))
                except json.JSONDecodeError:
                    pass
                self._changed.set()
                self._changed = trio.Event()
        self.closed = True
        self._changed.set()

    async def pump_stderr(self) -> None:
        assert self.process.stderr is not None
        async for chunk in self.process.stderr:
            self.stderr += chunk

    async def wait_event(self, name: str, **match: Any) -> dict[str, Any]:
        with trio.fail_after(LIMIT):
            while True:
                for event in self.events:
                    if event.get("event") == name and all(event.get(k) == v for k, v in match.items()):
                        return event
                if self.closed:
                    raise AssertionError(f"exited before logging {name}: {self.stdout_lines[-5:]}")
                await self._changed.wait()

    async def wait_for(self, condition: Callable[[list[dict[str, Any]]], bool]) -> None:
        """Until ``condition(events)`` holds (bounded by LIMIT)."""
        with trio.fail_after(LIMIT):
            while not condition(self.events):
                if self.closed:
                    raise AssertionError(f"exited first: {self.stdout_lines[-5:]}")
                await self._changed.wait()

    async def url(self) -> str:
        """The first bound http:// URL, from the `listening` event."""
        event = await self.wait_event("listening")
        return str(event["binds"][0])

    async def management_url(self) -> str:
        """The first management listener's URL (``--management-bind``), from the `listening` event."""
        event = await self.wait_event("listening")
        return str(event["management"][0])

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    async def wait(self) -> int:
        with trio.fail_after(LIMIT):
            code = await self.process.wait()
            while not self.closed:
                await self._changed.wait()
        return code

    def transitions(self) -> list[str]:
        return [e["to"] for e in self.events if e.get("event") == "state_transition"]


async def until_in_flight(client: Any, base: str, count: int) -> None:
    """Ask the service's ``base + "/status"`` (another process: nothing to wait on) until at least
    ``count`` requests are in flight; bounded."""
    with trio.fail_after(5):
        while (await client.get(base + "/status")).json()["in_flight"] < count:  # noqa: ASYNC110
            await trio.sleep(0.01)


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RESYNC_FSM_", "APP_"))}
    for name in ("REDIS_URL", "TWS_HOST", "TWS_PORT", "LLM_ENDPOINT", "SERVER_HOST", "SERVER_PORT",
                 "ENVIRONMENT", "LOG_LEVEL", "NOTIFY_SOCKET"):
        base.pop(name, None)
    base.update(extra)
    return base


@asynccontextmanager
async def running(*args: str, cwd: str | None = None, command: Sequence[str] = (),
                  pass_fds: Sequence[int] = (), **extra_env: str) -> AsyncIterator[Cli]:
    """The CLI with ``args``; ``command`` replaces ``python -m resync_fsm`` (a wrapper that execs it)."""
    process = await trio.lowlevel.open_process(
        [*(command or (sys.executable, "-m", "resync_fsm")), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        env=env(**extra_env), cwd=cwd, pass_fds=pass_fds,
    )
    cli = Cli(process)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(cli.pump)
            nursery.start_soon(cli.pump_stderr)
            yield cli
            await cli.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
