"""The lifecycle: one transition table, the machine it drives, and its history.

This table is the single source of truth. The runner applies events to the
machine built from it, and every diagram is drawn from that machine; nothing
else names a state or a legal move.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from typing import Any

import attrs
from transitions import Machine

__all__ = [
    "FINAL_STATES",
    "INITIAL_STATE",
    "STATES",
    "TRANSITIONS",
    "Lifecycle",
    "Move",
]

# (state, description, final)
STATES: tuple[tuple[str, str, bool], ...] = (
    ("created", "nothing yet; the runner posts `start`", False),
    ("validating", "load settings from every source and validate them", False),
    ("probing", "probe every dependency concurrently until the startup deadline", False),
    ("serving", "the engine serves the app on its loop; readiness is true", False),
    (
        "draining",
        "readiness false; wait drain_delay; close the listener; finish in-flight work",
        False,
    ),
    ("stopped", "cleanup after a graceful (or forced) stop", True),
    ("failed", "log the error by type; cleanup", True),
)

# (event, source, destination, note) — DESIGN §1. The note labels the edge in diagrams.
TRANSITIONS: tuple[tuple[str, str, str, str], ...] = (
    ("start", "created", "validating", ""),
    ("settings_valid", "validating", "probing", ""),
    ("fail", "validating", "failed", "exit 78 config · 70"),
    ("drain", "validating", "draining", "signal"),
    ("probes_passed", "probing", "serving", ""),
    ("fail", "probing", "failed", "exit 69 dependency · 70"),
    ("drain", "probing", "draining", "signal"),
    ("drain", "serving", "draining", "signal · app fault"),
    ("fail", "serving", "failed", "exit 70"),
    ("drained", "draining", "stopped", "exit 0"),
    ("drain", "draining", "stopped", "forced: exit 128+n"),
    ("fail", "draining", "failed", "exit 70"),
)

INITIAL_STATE = STATES[0][0]
FINAL_STATES = frozenset(name for name, _, final in STATES if final)


@attrs.frozen
class Move:
    """One applied transition, as kept in the history."""

    event: str
    source: str
    dest: str
    at: float  # wall clock (time.time()), for people
    elapsed: float  # seconds spent in ``source`` (trio clock when running)

    def as_dict(self) -> dict[str, Any]:
        """The move as plain data (event, source, dest, at, elapsed) for ``/status``."""
        return attrs.asdict(self)


class Lifecycle:
    """A ``transitions`` machine over :data:`TRANSITIONS` with a bounded history.

    ``apply(event)`` returns the :class:`Move` it made, or ``None`` when the
    event is not legal in the current state (final states accept nothing).
    """

    def __init__(self, *, history_size: int = 64, now: Any = time.monotonic) -> None:
        self._now = now
        self.machine = Machine(
            model=self,
            states=[{"name": name, "final": final} for name, _, final in STATES],
            transitions=[
                {"trigger": event, "source": source, "dest": dest}
                for event, source, dest, _ in TRANSITIONS
            ],
            initial=INITIAL_STATE,
            auto_transitions=False,
            ignore_invalid_triggers=False,
            model_attribute="state",
        )
        self.state: str
        self.history: collections.deque[Move] = collections.deque(maxlen=history_size)
        self.since: float | None = None  # set by the first move: the clock may not run yet
        self.since_wall = time.time()

    @property
    def is_final(self) -> bool:
        """Whether the machine is in a final state (``stopped``, ``failed``)."""
        return self.state in FINAL_STATES

    def may(self, event: str) -> bool:
        """Whether ``event`` is legal in the current state (never in a final one)."""
        return not self.is_final and event in self.machine.get_triggers(self.state)

    def apply(self, event: str) -> Move | None:
        """Apply ``event``: the :class:`Move` made, or ``None`` when it is not legal here (DESIGN §1)."""
        if not self.may(event):
            return None
        source = self.state
        self.machine.events[event].trigger(self)
        now = self._now()
        elapsed = now - self.since if self.since is not None else 0.0
        move = Move(event, source, self.state, time.time(), elapsed)
        self.since, self.since_wall = now, move.at
        self.history.append(move)
        return move


def edges(machine: Machine) -> Iterator[tuple[str, str, str]]:
    """(event, source, dest) for every transition of a live machine, in table order."""
    for name, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                yield name, source, str(transition.dest)
