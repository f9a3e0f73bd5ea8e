"""Issue 24, item 13: the move from probing to serving names what happened. ``probes_passed`` only when every
critical probe passed; with ``startup.fail_fast`` false and a critical probe still failing at the deadline,
``probes_deferred`` (serving starts not ready, the probes keep retrying)."""

from __future__ import annotations

import pytest
import trio

from resync_fsm.lifecycle import EventName, State
from resync_fsm.settings import Settings, StartupSettings

from ..fakes import spec
from .test_core import scripted_runner


@pytest.mark.parametrize(("passes_at", "move"), [(1, EventName.PROBES_PASSED), (8, EventName.PROBES_DEFERRED)])
async def test_the_move_into_serving_says_whether_the_probes_passed(
        autojump_clock: trio.abc.Clock, passes_at: int, move: EventName) -> None:
    settings = Settings(startup=StartupSettings(timeout=1.0, fail_fast=False), probes=(spec("db"),))
    runner, _ = scripted_runner(settings, lambda name, n: "ok" if n >= passes_at else "refused")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state(State.SERVING)
        runner.request_drain()
    into_serving = [m.event for m in runner.lifecycle.history if m.dest == State.SERVING]
    assert into_serving == [move]
