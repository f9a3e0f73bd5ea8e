"""The supervisor's backoff and crash-loop arithmetic (issue 17), on trio's MockClock."""

from __future__ import annotations

import random

import trio
import trio.testing

from resync_fsm.serving.workers.crash_loop import BACKOFF_CAP, BACKOFF_FIRST, CrashLoop, recycle_limit


async def test_deaths_within_the_window_are_a_crash_loop(autojump_clock: trio.testing.MockClock) -> None:
    loop = CrashLoop(deaths=3, seconds=10.0)
    assert not loop.record(trio.current_time())
    await trio.sleep(4)
    assert not loop.record(trio.current_time())
    await trio.sleep(4)
    assert loop.record(trio.current_time())  # three within 8 s


async def test_deaths_spread_wider_than_the_window_are_not(autojump_clock: trio.testing.MockClock) -> None:
    loop = CrashLoop(deaths=3, seconds=10.0)
    for _ in range(10):
        assert not loop.record(trio.current_time())
        await trio.sleep(5.01)  # at most two in any 10 s
    assert loop.recent == 2


async def test_backoff_doubles_with_recent_deaths_and_is_capped(autojump_clock: trio.testing.MockClock) -> None:
    loop = CrashLoop(deaths=100, seconds=60.0)
    delays = []
    for _ in range(8):
        loop.record(trio.current_time())
        delays.append(loop.backoff())
    assert delays[:4] == [BACKOFF_FIRST, BACKOFF_FIRST * 2, BACKOFF_FIRST * 4, BACKOFF_FIRST * 8]
    assert delays[-1] == BACKOFF_CAP
    await trio.sleep(61)
    loop.record(trio.current_time())
    assert loop.backoff() == BACKOFF_FIRST  # the window forgot the old deaths


def test_recycle_limit_adds_jitter_and_zero_means_off() -> None:
    rng = random.Random(7)
    limits = {recycle_limit(100, 10, rng) for _ in range(200)}
    assert min(limits) >= 100 and max(limits) <= 110 and len(limits) > 5
    assert recycle_limit(0, 10, rng) == 0
