"""The committed diagrams are what the code draws now; the drawing covers the whole table."""

from __future__ import annotations

from pathlib import Path

import pytest

from resync_fsm.cli import main
from resync_fsm.diagram import dot, mermaid
from resync_fsm.lifecycle import STATES, TRANSITIONS

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"


@pytest.mark.parametrize(("name", "draw"), [("lifecycle.mmd", mermaid), ("lifecycle.dot", dot)])
def test_committed_diagram_matches_the_code(name: str, draw) -> None:  # type: ignore[no-untyped-def]
    assert (DIAGRAMS / name).read_text() == draw(), "regenerate with scripts/diagrams.sh"


def test_mermaid_has_every_state_and_edge() -> None:
    text = mermaid()
    for event, source, dest, note in TRANSITIONS:
        label = f"{event} ({note})" if note else event
        assert f"    {source} --> {dest}: {label}\n" in text
    for name, _, final in STATES:
        assert (f"    {name} --> [*]\n" in text) == final
    assert "classDef active" not in text  # nothing active in a static picture


def test_active_state_is_highlighted_only_when_asked() -> None:
    assert "class serving active" in mermaid(active="serving")
    assert "fillcolor" in dot(active="serving") and "fillcolor" not in dot()


def test_cli_prints_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", "--format", "mermaid"]) == 0
    assert capsys.readouterr().out == mermaid()
