"""Every (state, event) pair against DESIGN §1's table, written out here by hand from DESIGN."""

from __future__ import annotations

import itertools

import pytest

from resync_fsm.lifecycle import FINAL_STATES, INITIAL_STATE, STATES, TRANSITIONS, Lifecycle

# Copied from DESIGN.md §1, not read back from the code.
DESIGN = {
    ("created", "start"): "validating",
    ("validating", "settings_valid"): "probing",
    ("validating", "fail"): "failed",
    ("validating", "drain"): "draining",
    ("probing", "probes_passed"): "serving",
    ("probing", "probes_deferred"): "serving",  # issue 24: not yet in DESIGN §1 (read-only); see the report
    ("probing", "fail"): "failed",
    ("probing", "drain"): "draining",
    ("serving", "drain"): "draining",
    ("serving", "fail"): "failed",
    ("draining", "drained"): "stopped",
    ("draining", "drain"): "stopped",
    ("draining", "fail"): "failed",
}
DESIGN_STATES = ["created", "validating", "probing", "serving", "draining", "stopped", "failed"]
DESIGN_EVENTS = ["start", "settings_valid", "probes_passed", "probes_deferred", "drain", "drained", "fail"]

# The shortest path of events from `created` to each state.
PATHS = {
    "created": [],
    "validating": ["start"],
    "probing": ["start", "settings_valid"],
    "serving": ["start", "settings_valid", "probes_passed"],
    "draining": ["start", "settings_valid", "probes_passed", "drain"],
    "stopped": ["start", "settings_valid", "probes_passed", "drain", "drained"],
    "failed": ["start", "fail"],
}


def in_state(name: str) -> Lifecycle:
    lifecycle = Lifecycle()
    for event in PATHS[name]:
        assert lifecycle.apply(event) is not None
    assert lifecycle.state == name
    return lifecycle


def test_states_and_finals_match_design() -> None:
    assert [name for name, _, _ in STATES] == DESIGN_STATES
    assert INITIAL_STATE == "created"
    assert FINAL_STATES == {"stopped", "failed"}
    assert {(source, event): dest for event, source, dest, _ in TRANSITIONS} == DESIGN


@pytest.mark.parametrize(("state", "event"), list(itertools.product(DESIGN_STATES, DESIGN_EVENTS)))
def test_every_pair(state: str, event: str) -> None:
    lifecycle = in_state(state)
    move = lifecycle.apply(event)
    expected = DESIGN.get((state, event))
    if expected is None:
        assert move is None, f"{event} must be ignored in {state}"
        assert lifecycle.state == state
    else:
        assert move is not None and move.dest == expected
        assert lifecycle.state == expected


def test_final_states_are_marked_final_in_the_machine() -> None:
    machine = Lifecycle().machine
    assert {name for name, state in machine.states.items() if state.final} == {"stopped", "failed"}


def test_history_is_bounded_and_ordered() -> None:
    lifecycle = Lifecycle(history_size=3)
    for event in PATHS["stopped"]:
        lifecycle.apply(event)
    assert [(m.source, m.dest) for m in lifecycle.history] == [
        ("probing", "serving"), ("serving", "draining"), ("draining", "stopped"),
    ]
