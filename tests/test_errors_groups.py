"""Issue 24 item 7: every error line that carries an exception group names its leaf exceptions.

As an exception (:func:`describe`, :func:`one_line`), as the formatted traceback an ASGI app puts
in ``lifespan.startup.failed`` (Starlette does), as a StartupError's cause, and as the runner's
failure (:func:`root_error`): the first three leaves' types and messages, then how many more.
"""

from __future__ import annotations

import traceback

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resync_fsm.errors import (
    EX_CONFIG,
    ConfigurationValidationError,
    LifespanError,
    StartupError,
    describe,
    exit_code_for,
    leaves,
    one_line,
    root_error,
)

TYPES = (RuntimeError, ValueError, OSError, KeyError, ConnectionError, TimeoutError)
leaf = st.builds(lambda kind, text: kind(text), st.sampled_from(TYPES),
                 st.text("abcdefghijklmnopqrstuvwxyz ", min_size=3, max_size=30).map(lambda s: "m " + s.strip()))
trees = st.recursive(leaf, lambda children: st.builds(
    lambda subs, name: ExceptionGroup(name, subs), st.lists(children, min_size=1, max_size=4),
    st.sampled_from(["unhandled errors in a TaskGroup", "Exceptions from Trio nursery"])), max_leaves=12)
groups = trees.filter(lambda exc: isinstance(exc, ExceptionGroup))


def formatted(exc: BaseException) -> str:
    try:
        raise exc
    except BaseException:
        return traceback.format_exc()


def leaf_text(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())  # whitespace runs fold, as on every line


@given(groups)
def test_a_group_names_its_first_leaves_and_counts_the_rest(group: ExceptionGroup[Exception]) -> None:
    found = leaves(group)
    for line in (describe(group), one_line(group), one_line(formatted(group))):
        assert "\n" not in line and len(line) < 1200
        assert line.startswith(f"ExceptionGroup: {group.message}")
        for exc in found[:3]:
            assert leaf_text(exc) in line
        if len(found) > 3:
            assert line.endswith(f"; and {len(found) - 3} more")
        assert "sub-exception" not in line


def test_the_issues_starlette_task_group() -> None:
    group = ExceptionGroup("unhandled errors in a TaskGroup", [RuntimeError("queue subscriber lost its connection")])
    expected = "ExceptionGroup: unhandled errors in a TaskGroup: RuntimeError: queue subscriber lost its connection"
    assert describe(group) == one_line(formatted(group)) == expected


def test_a_chained_leaf_in_a_traceback_is_the_one_raised() -> None:
    try:
        try:
            raise KeyError("the cause")
        except KeyError as cause:
            raise ExceptionGroup("g", [RuntimeError("the leaf")]) from cause
    except ExceptionGroup:
        text = traceback.format_exc()
    assert one_line(text) == "ExceptionGroup: g: RuntimeError: the leaf"


def test_a_startup_errors_group_cause_is_named() -> None:
    group = ExceptionGroup("boom", [ValueError("a"), OSError("b")])
    try:
        try:
            raise group
        except ExceptionGroup as exc:
            raise StartupError("the app module 'm' raised ExceptionGroup: boom (2 sub-exceptions) while "
                               "being imported") from exc
    except StartupError as error:
        line = error.one_line()
    assert line.endswith("while being imported (2 errors): ValueError: a; OSError: b")


def test_root_error_keeps_a_startup_error_and_names_several_leaves() -> None:
    config = ConfigurationValidationError("1 configuration problem: x")
    assert root_error(ExceptionGroup("g", [RuntimeError("r"), ExceptionGroup("h", [config])])) is config
    single = RuntimeError("only")
    assert root_error(ExceptionGroup("g", [ExceptionGroup("h", [single])])) is single
    several = root_error(ExceptionGroup("g", [RuntimeError("r"), ValueError("v")]))
    assert isinstance(several, StartupError) and exit_code_for(several) == 70
    assert several.one_line() == "StartupError: unexpected ExceptionGroup: g (2 errors): RuntimeError: r; ValueError: v"
    assert exit_code_for(root_error(ExceptionGroup("g", [config]))) == EX_CONFIG


@pytest.mark.parametrize("phase", ["startup", "serving", "shutdown"])
def test_a_leaf_startup_error_keeps_its_own_line(phase: str) -> None:
    group = ExceptionGroup("g", [LifespanError("the app's lifespan failed", phase)])
    assert describe(group) == "ExceptionGroup: g: LifespanError: the app's lifespan failed"


def test_an_empty_message_and_many_long_leaves_stay_bounded() -> None:
    group = ExceptionGroup("", [RuntimeError("x" * 5000) for _ in range(50)])
    line = describe(group)
    assert line.startswith("ExceptionGroup (50 errors): RuntimeError: xxx") and line.endswith("; and 47 more")
    assert len(line) < 1000
