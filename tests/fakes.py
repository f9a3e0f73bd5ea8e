"""In-memory fakes shared by the tests: they record what happened, in order."""

from __future__ import annotations

import random
from collections.abc import Callable

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
    """A server that 'listens' at once and, once triggered, finishes in-flight work in ``linger`` s."""

    def __init__(self, linger: float = 0.0, fail_with: BaseException | None = None) -> None:
        self.linger = linger
        self.fail_with = fail_with
        self.events: list[tuple[str, float]] = []

    async def __call__(self, app, settings: Settings, *, shutdown_trigger, task_status=trio.TASK_STATUS_IGNORED):  # type: ignore[no-untyped-def]
        if self.fail_with is not None:
            raise self.fail_with
        self.events.append(("listening", trio.current_time()))
        task_status.started(["http://fake:1"])
        await shutdown_trigger()
        self.events.append(("listener_closed", trio.current_time()))
        await trio.sleep(self.linger)
        self.events.append(("stopped", trio.current_time()))


def seeded() -> random.Random:
    return random.Random(1234)
