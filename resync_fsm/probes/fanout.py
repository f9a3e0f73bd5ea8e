"""Running every probe at once, each retried with backoff until the startup deadline.

Nothing caps the fan-out: each probe is its own trio task. An attempt never
runs past the deadline, and every probe has a result when probing ends.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import attrs
import trio

from ..errors import DependencyUnavailableError
from ..settings.model import ProbeSpec
from .results import ProbeBoard, ProbeFailure

__all__ = ["Attempt", "Backoff", "ProbeBoard", "probe_all", "unavailable_error"]

Attempt = Callable[[ProbeSpec], Awaitable[str]]


@attrs.frozen
class Backoff:
    """Exponential from ``initial`` doubling to ``cap``; each delay scaled by a jitter in [0.5, 1]."""

    initial: float = 0.1
    cap: float = 2.0  # DESIGN §4: 0.1 s doubling to 2 s

    def delay(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after ``failures`` failed attempts: exponential from the first delay,
        capped, jittered by ``rng`` into [0.5, 1] of it (DESIGN §4)."""
        # the exponent is bounded before the power: 2.0 ** 1024 overflows, and a probe retried
        # without a deadline while serving reaches a thousand failures in about half an hour
        base = min(self.cap, self.initial * 2.0 ** min(max(failures - 1, 0), 64))
        return base * rng.uniform(0.5, 1.0)


async def probe_all(
    board: ProbeBoard,
    attempt: Attempt,
    *,
    deadline: float,
    backoff: Backoff = Backoff(),
    rng: random.Random | None = None,
    until_settled: bool = True,
) -> None:
    """Probe until the board is settled (or, with ``until_settled=False``, until
    every probe is ok: those already ok are not probed again) or the deadline (trio time) passes."""
    rng = rng or random.Random()
    remaining = len(board.specs)
    finished = trio.Event()

    def check_done() -> None:
        if remaining == 0 or (until_settled and board.settled):
            finished.set()

    async def one(spec: ProbeSpec) -> None:
        nonlocal remaining
        try:
            if until_settled or not board.results[spec.name].ok:
                await _retry(spec, board, attempt, deadline, backoff, rng, check_done)
        finally:
            remaining -= 1
            check_done()

    try:
        async with trio.open_nursery() as nursery:
            for spec in board.specs.values():
                nursery.start_soon(one, spec)
            check_done()
            await finished.wait()
            nursery.cancel_scope.cancel()
    finally:
        board.close_pending()


async def _retry(
    spec: ProbeSpec,
    board: ProbeBoard,
    attempt: Attempt,
    deadline: float,
    backoff: Backoff,
    rng: random.Random,
    after_attempt: Callable[[], None],
) -> None:
    attempts = board.results[spec.name].attempts  # counting on across re-probes
    failures = 0
    while (left := deadline - trio.current_time()) > 0:
        attempts += 1
        board.in_progress[spec.name] = attempts
        started = trio.current_time()
        reason: str | None
        with trio.move_on_after(min(spec.timeout, left)) as scope:
            try:
                message = await attempt(spec)
            except ProbeFailure as failure:
                reason, message, status = failure.reason, failure.message, "fail"
            else:
                reason, status = None, "ok"
        if scope.cancelled_caught:
            previous = board.results[spec.name]
            if left < spec.timeout and previous.status == "fail" and previous.reason != "timeout":
                # The deadline, not the dependency, cut this attempt short: the earlier
                # failure says more about what is wrong than "timeout" would.
                reason, status = previous.reason, "fail"
                message = f"{previous.message} (the last attempt was cut short by the deadline, startup.timeout)"
            else:
                reason, status = "timeout", "fail"
                message = (f"no answer within {spec.timeout:g} s ([[probes]] timeout)" if spec.timeout <= left
                           else f"no answer within {left:g} s (the startup deadline, startup.timeout)")
        board.in_progress.pop(spec.name, None)
        latency = (trio.current_time() - started) * 1000
        outcome = attrs.evolve(board.results[spec.name], status=status, attempts=attempts,
                               latency_ms=round(latency, 3), reason=reason, message=message)
        board.update(outcome)
        after_attempt()
        if outcome.ok:
            return
        failures += 1
        delay = backoff.delay(failures, rng)
        if trio.current_time() + delay >= deadline:
            return
        await trio.sleep(delay)


def unavailable_error(board: ProbeBoard, timeout: float) -> DependencyUnavailableError:
    """The error for critical probes that did not pass by the deadline."""
    failed = [r for r in board.results.values() if r.critical and not r.ok]
    summary = "; ".join(r.line() for r in failed)
    names = ", ".join(r.name for r in failed)
    message = (
        f"critical dependenc{'ies' if len(failed) > 1 else 'y'} {names} not available within "
        f"the startup deadline ({timeout:g} s): {summary}. Check that it runs and is reachable, "
        "or raise [startup] timeout."
    )
    return DependencyUnavailableError(
        message, failed[0].name, {"probes": [r.as_dict() for r in failed]}
    )
