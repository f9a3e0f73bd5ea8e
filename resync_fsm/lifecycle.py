"""The lifecycle: one transition table, the machine it drives, and its history.

This table is the single source of truth. The runner applies events to the
machine built from it, and every diagram is drawn from that machine; nothing
else spells a state or a legal move: code names them through :class:`State`
and :class:`EventName` (string enums, so ``State.SERVING == "serving"``), which
makes a misspelt name a type error, and the table is written in their members.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import attrs
from transitions import Machine

__all__ = [
    "EventName",
    "FINAL_STATES",
    "INITIAL_STATE",
    "STATES",
    "TRANSITIONS",
    "Lifecycle",
    "Move",
    "State",
]


class State(StrEnum):
    """The lifecycle's states (DESIGN §1)."""

    CREATED = "created"
    VALIDATING = "validating"
    PROBING = "probing"
    SERVING = "serving"
    DRAINING = "draining"
    STOPPED = "stopped"
    FAILED = "failed"


class EventName(StrEnum):
    """The events that move the lifecycle (DESIGN §1)."""

    START = "start"
    SETTINGS_VALID = "settings_valid"
    PROBES_PASSED = "probes_passed"
    PROBES_DEFERRED = "probes_deferred"  # startup.fail_fast false: critical probes still failing, serving unready
    DRAIN = "drain"
    DRAINED = "drained"
    FAIL = "fail"


# (state, description, final)
STATES: tuple[tuple[State, str, bool], ...] = (
    (State.CREATED, "nothing yet; the runner posts `start`", False),
    (State.VALIDATING, "load settings from every source and validate them", False),
    (State.PROBING, "probe every dependency concurrently until the startup deadline", False),
    (State.SERVING, "the engine serves the app on its loop; readiness is true", False),
    (
        State.DRAINING,
        "readiness false; wait drain_delay; close the listener; finish in-flight work",
        False,
    ),
    (State.STOPPED, "cleanup after a graceful (or forced) stop", True),
    (State.FAILED, "log the error by type; cleanup", True),
)

# (event, source, destination, note) — DESIGN §1. The note labels the edge in diagrams.
_S, _E = State, EventName
TRANSITIONS: tuple[tuple[EventName, State, State, str], ...] = (
    (_E.START, _S.CREATED, _S.VALIDATING, ""),
    (_E.SETTINGS_VALID, _S.VALIDATING, _S.PROBING, ""),
    (_E.FAIL, _S.VALIDATING, _S.FAILED, "exit 78 config · 70"),
    (_E.DRAIN, _S.VALIDATING, _S.DRAINING, "signal"),
    (_E.PROBES_PASSED, _S.PROBING, _S.SERVING, ""),
    (_E.PROBES_DEFERRED, _S.PROBING, _S.SERVING, "--no-fail-fast: not ready"),
    (_E.FAIL, _S.PROBING, _S.FAILED, "exit 69 dependency · 70"),
    (_E.DRAIN, _S.PROBING, _S.DRAINING, "signal"),
    (_E.DRAIN, _S.SERVING, _S.DRAINING, "signal · app fault"),
    (_E.FAIL, _S.SERVING, _S.FAILED, "exit 70"),
    (_E.DRAINED, _S.DRAINING, _S.STOPPED, "exit 0"),
    (_E.DRAIN, _S.DRAINING, _S.STOPPED, "forced: exit 128+n"),
    (_E.FAIL, _S.DRAINING, _S.FAILED, "exit 70"),
)

INITIAL_STATE = STATES[0][0]
FINAL_STATES = frozenset(name for name, _, final in STATES if final)


@attrs.frozen
class Move:
    """One applied transition, as kept in the history."""

    event: EventName
    source: State
    dest: State
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
            states=[{"name": name.value, "final": final} for name, _, final in STATES],
            transitions=[
                {"trigger": event.value, "source": source.value, "dest": dest.value}
                for event, source, dest, _ in TRANSITIONS
            ],
            initial=INITIAL_STATE.value,
            auto_transitions=False,
            ignore_invalid_triggers=False,
            model_attribute="machine_state",
        )
        self.machine_state: str  # the machine's own (plain string) state
        self.history: collections.deque[Move] = collections.deque(maxlen=history_size)
        self.since: float | None = None  # set by the first move: the clock may not run yet
        self.since_wall = time.time()

    @property
    def state(self) -> State:
        """The current state."""
        return State(self.machine_state)

    @property
    def is_final(self) -> bool:
        """Whether the machine is in a final state (``stopped``, ``failed``)."""
        return self.state in FINAL_STATES

    def may(self, event: str) -> bool:
        """Whether ``event`` is legal in the current state (never in a final one)."""
        return not self.is_final and event in self.machine.get_triggers(self.machine_state)

    def apply(self, event: EventName) -> Move | None:
        """Apply ``event``: the :class:`Move` made, or ``None`` when it is not legal here (DESIGN §1)."""
        if not self.may(event):
            return None
        source = self.state
        self.machine.events[event].trigger(self)
        now = self._now()
        elapsed = now - self.since if self.since is not None else 0.0
        move = Move(EventName(event), source, self.state, time.time(), elapsed)
        self.since, self.since_wall = now, move.at
        self.history.append(move)
        return move


def edges(machine: Machine) -> Iterator[tuple[str, str, str]]:
    """(event, source, dest) for every transition of a live machine, in table order."""
    for name, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                yield name, source, str(transition.dest)
