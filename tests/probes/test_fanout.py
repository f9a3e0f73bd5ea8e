"""Retries, backoff, jitter and the deadline, in virtual time (trio's MockClock)."""

from __future__ import annotations

import math
import random

import pytest
import trio

from resync_fsm.probes import Backoff, ProbeBoard, probe_all

from ..fakes import ScriptedAttempts, spec


async def test_retries_with_backoff_until_the_deadline(autojump_clock: trio.abc.Clock) -> None:
    attempts = ScriptedAttempts(lambda name, n: "refused")
    board = ProbeBoard([spec()])
    start = trio.current_time()
    await probe_all(board, attempts, deadline=start + 5.0, rng=random.Random(7))

    times = [t - start for t in attempts.times("db")]
    assert times[0] == 0
    for n, (before, after) in enumerate(zip(times, times[1:], strict=False), 1):
        gap = after - before - 0.01  # each fake attempt takes 0.01 s
        low, high = BOUNDS[min(n, 6)]
        assert low - 1e-9 <= gap <= high + 1e-9, (n, gap)
    assert times[-1] < 5.0
    assert trio.current_time() - start <= 5.0
    result = board.results["db"]
    assert (result.status, result.reason, result.attempts) == ("fail", "refused", len(times))
    # 0.1 + 0.2 + 0.4 + 0.8 + 1.6 then 2 s apart (times jitter in [0.5, 1]): between 5 and 11 attempts in 5 s
    assert 5 <= len(times) <= 11


async def test_success_stops_retrying(autojump_clock: trio.abc.Clock) -> None:
    attempts = ScriptedAttempts(lambda name, n: "ok" if n == 3 else "refused")
    board = ProbeBoard([spec()])
    await probe_all(board, attempts, deadline=trio.current_time() + 30)
    assert len(attempts.calls) == 3
    assert board.results["db"].ok and board.results["db"].attempts == 3


async def test_an_attempt_never_outlives_the_deadline(autojump_clock: trio.abc.Clock) -> None:
    attempts = ScriptedAttempts(lambda name, n: "hang")
    board = ProbeBoard([spec(timeout=3.0)])
    start = trio.current_time()
    await probe_all(board, attempts, deadline=start + 4.0, rng=random.Random(1))
    # first attempt times out at 3 s; the second is cut at the 4 s deadline
    assert trio.current_time() - start == pytest.approx(4.0)
    result = board.results["db"]
    assert result.reason == "timeout" and result.status == "fail"
    assert attempts.open == 0


# The wait after the n-th failure in a row, in seconds: 0.1 s doubling, capped at 1 s, each scaled by a
# jitter in [0.5, 1] (DESIGN §4 says "0.1 s doubling to 2 s": see test_backoff_caps_at_2_s_as_design_says).
# DESIGN §4: 0.1 s doubling to 2 s, each delay jittered into [0.5, 1] of it
BOUNDS = {1: (0.05, 0.1), 2: (0.1, 0.2), 3: (0.2, 0.4), 4: (0.4, 0.8), 5: (0.8, 1.6), 6: (1.0, 2.0),
          10: (1.0, 2.0), 60: (1.0, 2.0), 1025: (1.0, 2.0), 100_000: (1.0, 2.0)}


@pytest.mark.parametrize(("failures", "bounds"), BOUNDS.items())
def test_backoff_bounds(failures: int, bounds: tuple[float, float]) -> None:
    low, high = bounds
    rng = random.Random(1234)
    delays = [Backoff().delay(failures, rng) for _ in range(1000)]
    assert all(low <= d <= high for d in delays)
    spread = high - low  # the jitter covers the whole range, not one point of it
    assert min(delays) < low + 0.05 * spread and max(delays) > high - 0.05 * spread


def test_backoff_after_thousands_of_failures_is_the_cap() -> None:
    """0.1 * 2.0 ** 1024 overflows: the exponent is bounded before the power."""
    assert 1.0 <= Backoff().delay(1025, random.Random(1)) <= 2.0


async def test_retrying_without_a_deadline_survives_a_long_outage(autojump_clock: trio.abc.Clock) -> None:
    attempts = ScriptedAttempts(lambda name, n: "refused")
    board = ProbeBoard([spec("cache", critical=False)])
    with trio.move_on_after(2 * 3600):  # two hours of a dependency down
        await probe_all(board, attempts, deadline=math.inf, until_settled=False, rng=random.Random(7))
    assert len(attempts.calls) > 3600  # at most 2.01 s apart: past the 1025th failure, which overflowed


async def test_noncritical_does_not_hold_up_critical(autojump_clock: trio.abc.Clock) -> None:
    attempts = ScriptedAttempts(lambda name, n: "ok" if name == "db" else "timeout")
    board = ProbeBoard([spec("db"), spec("cache", critical=False)])
    start = trio.current_time()
    await probe_all(board, attempts, deadline=start + 30)
    assert trio.current_time() - start < 0.1
    assert board.results["db"].ok
    assert board.results["cache"].status == "fail" and board.results["cache"].attempts == 1
    assert board.critical_ok


async def test_two_hundred_silent_probes_cost_one_timeout(autojump_clock: trio.abc.Clock) -> None:
    attempts = ScriptedAttempts(lambda name, n: "hang")
    board = ProbeBoard([spec(f"p{i}", timeout=1.0) for i in range(200)])
    start = trio.current_time()
    await probe_all(board, attempts, deadline=start + 1.0)
    assert trio.current_time() - start == pytest.approx(1.0)
    assert len(board.results) == 200
    assert all(r.reason == "timeout" and r.attempts == 1 for r in board.results.values())
    assert attempts.open == 0


async def test_cancelled_probing_leaves_no_probe_missing(autojump_clock: trio.abc.Clock) -> None:
    attempts = ScriptedAttempts(lambda name, n: "hang")
    board = ProbeBoard([spec("a"), spec("b")])
    with trio.move_on_after(0.5):
        await probe_all(board, attempts, deadline=trio.current_time() + 30)
    assert [(r.name, r.status, r.reason) for r in board.results.values()] == [
        ("a", "skipped", "cancelled"), ("b", "skipped", "cancelled"),
    ]


async def test_an_attempt_cut_by_the_deadline_keeps_the_earlier_reason(autojump_clock: trio.abc.Clock) -> None:
    # refused twice, then the third attempt hangs until the deadline cuts it
    attempts = ScriptedAttempts(lambda name, n: "refused" if n < 3 else "hang")
    board = ProbeBoard([spec(timeout=3.0)])
    await probe_all(board, attempts, deadline=trio.current_time() + 1.0, rng=random.Random(1))
    result = board.results["db"]
    assert (result.status, result.reason, result.attempts) == ("fail", "refused", 3)
    assert result.message.endswith("(the last attempt was cut short by the deadline, startup.timeout)")
