"""The registry tying each state of the lifecycle table to its activity.

An activity is ``async def activity(runner, post)``: it does the state's work and
posts events (``post(EventName.PROBES_PASSED)``); it never changes state itself (DESIGN §1).
Each state module registers its activity under the state's name with
:func:`activity`, which refuses a name the table does not have; a test checks that
every state that has work (all but the initial and final ones) has an activity.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..lifecycle import FINAL_STATES, INITIAL_STATE, STATES, EventName, State

if TYPE_CHECKING:
    from .core import Runner

__all__ = ["ACTIVITIES", "WORKING_STATES", "Activity", "Post", "activity", "activity_for"]


class Post(Protocol):
    """How an activity posts an event: ``post(EventName.FAIL, error=exc)`` (the fields of
    :class:`~.events.Event`); an event posted by a state that has since been left is ignored."""

    def __call__(self, name: EventName, **fields: Any) -> None:
        """Queue the event ``name`` for the runner's loop."""


Activity = Callable[["Runner", Post], Awaitable[None]]
A = TypeVar("A", bound=Activity)

ACTIVITIES: dict[State, Activity] = {}
# The states whose activity does the lifecycle's work: all but the initial and the final ones.
WORKING_STATES = tuple(name for name, _, _ in STATES if name != INITIAL_STATE and name not in FINAL_STATES)


def activity(state: State) -> Callable[[A], A]:
    """Register the decorated function as ``state``'s activity. Raises ValueError for a state
    the lifecycle table does not have, or one registered twice."""

    def register(fn: A) -> A:
        if state not in WORKING_STATES:
            raise ValueError(f"{state!r} is not a working state of the lifecycle table: {WORKING_STATES}")
        if state in ACTIVITIES:
            raise ValueError(f"{state!r} already has an activity")
        ACTIVITIES[state] = fn
        return fn

    return register


def activity_for(state: State) -> Activity | None:
    """The activity of ``state`` (``None`` for a final state)."""
    _load()
    return ACTIVITIES.get(state)


def _load() -> None:
    # Every time, not only while the registry is empty: importing one state module elsewhere
    # (a test importing draining's MARGIN) must not hide the others. Imports are cached.
    from . import draining, probing, serving, validating  # noqa: F401 - they register themselves
