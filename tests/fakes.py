"""In-memory fakes shared by the tests: they record what happened, in order."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import trio

from resync_fsm.probes import ProbeFailure
from resync_fsm.settings import ProbeSpec, Settings


def spec(name: str = "db", *, critical: bool = True, timeout: float = 3.0, kind: str = "tcp") -> ProbeSpec:
    return ProbeSpec(name=name, kind=kind, host="fake.invalid", port=1, critical=critical, timeout=timeout)


class ScriptedAttempts:
    """An attempt function: ``script(name, n)`` returns "ok", a reason code, or "hang"."""

    def __init__(self, script: Callable[[str, int], str]) -> None:
        self.script = script
        self.calls: list[tuple[str, float]] = []  # (probe, virtual start time)
        self.open = 0  # attempts in progress, to show none leak

    async def __call__(self, probe: ProbeSpec) -> str:
        n = sum(1 for name, _ in self.calls if name == probe.name) + 1
        self.calls.append((probe.name, trio.current_time()))
        self.open += 1
        try:
            outcome = self.script(probe.name, n)
            if outcome == "hang":
                await trio.sleep_forever()
            await trio.sleep(0.01)
            if outcome != "ok":
                raise ProbeFailure(outcome, f"scripted {outcome}")
            return "ok"
        finally:
            self.open -= 1

    def times(self, name: str) -> list[float]:
        return [t for n, t in self.calls if n == name]


class FakeServer:
    """A backend whose server 'listens' at once and, once shut down, finishes in-flight work in
    ``linger`` s. ``startup`` seconds of app startup come first; ``fail_with`` is raised instead."""

    def __init__(self, linger: float = 0.0, fail_with: BaseException | None = None, startup: float = 0.0,
                 fail_on_stop: BaseException | None = None, budget: float | None = None) -> None:
        self.linger = linger
        self.fail_with = fail_with
        self.fail_on_stop = fail_on_stop
        self.startup = startup
        self.budget = linger if budget is None else budget
        self.events: list[tuple[str, float]] = []
        self.on_fault: Callable[[BaseException], None] | None = None
        self._stop = trio.Event()

    def __call__(self, app: Any, settings: Settings, on_fault: Callable[[BaseException], None]) -> FakeServer:
        self.on_fault = on_fault
        return self

    @property
    def drain_budget(self) -> float:
        return self.budget

    def shutdown(self) -> None:
        self._stop.set()

    async def serve(self, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        try:
            await trio.sleep(self.startup)
        except trio.Cancelled:
            self.events.append(("startup_cancelled", trio.current_time()))
            raise
        self.events.append(("listening", trio.current_time()))
        task_status.started(["http://fake:1"])
        await self._stop.wait()
        self.events.append(("listener_closed", trio.current_time()))
        await trio.sleep(self.linger)
        self.events.append(("stopped", trio.current_time()))
        if self.fail_on_stop is not None:
            raise self.fail_on_stop


def seeded() -> random.Random:
    return random.Random(1234)


class FakeView:
    """What the runner shows the endpoints: liveness, readiness and a status document."""

    def __init__(self, *, live: bool = True, ready: bool = True, state: str = "serving") -> None:
        self.is_live, self.is_ready, self.state = live, ready, state

    def live(self) -> tuple[bool, str]:
        return self.is_live, self.state

    def ready(self) -> tuple[bool, str]:
        return self.is_ready, self.state

    def status(self) -> dict[str, Any]:
        return {"state": self.state, "ready": self.is_ready, "probes": []}

    # the rest of web.view.LifecycleView: what /metrics reads of a lifecycle, with no runner
    loop_name = "asyncio"
    started_wall = 0.0
    certificate_expiry: float | None = None

    @property
    def choice(self) -> dict[str, str]:
        return {"engine": "uvicorn", "engine_source": "default", "loop": "asyncio", "loop_source": "default"}

    def exit_reason(self, dest: str) -> str:
        return "request"
