"""Every working state of the lifecycle table has exactly one activity, and nothing else does."""

from __future__ import annotations

import pytest

from resync_fsm.lifecycle import FINAL_STATES, INITIAL_STATE, STATES
from resync_fsm.runner.activities import ACTIVITIES, WORKING_STATES, activity, activity_for


def test_each_working_state_has_its_activity() -> None:
    for state in WORKING_STATES:
        assert activity_for(state) is not None, state
    assert set(ACTIVITIES) == {name for name, _, _ in STATES} - FINAL_STATES - {INITIAL_STATE}


def test_an_activity_for_a_state_not_in_the_table_is_refused() -> None:
    with pytest.raises(ValueError, match="not a working state"):
        activity("warming_up")(lambda runner, post: None)  # type: ignore[arg-type,return-value]


def test_a_second_activity_for_a_state_is_refused() -> None:
    activity_for("serving")
    with pytest.raises(ValueError, match="already has an activity"):
        activity("serving")(lambda runner, post: None)  # type: ignore[arg-type,return-value]


def test_the_runner_imports_no_backend() -> None:
    """The runner talks to servers through the serving package's front only; Hypercorn and Uvicorn, and
    their engine subpackages, are imported when serving selects one (issue 10)."""
    import subprocess
    import sys

    code = ("import sys, resync_fsm.runner, resync_fsm.runner.activities as a; a._load(); "
            "print(sorted(m for m in sys.modules if m.startswith(('hypercorn', 'uvicorn', "
            "'resync_fsm.serving.hypercorn', 'resync_fsm.serving.uvicorn', 'resync_fsm.serving.workers'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
