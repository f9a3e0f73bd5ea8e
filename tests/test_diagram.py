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


def test_the_package_ships_the_committed_svg() -> None:
    shipped = Path(__file__).resolve().parent.parent / "resync_fsm" / "lifecycle.svg"
    assert shipped.read_text() == (DIAGRAMS / "lifecycle.svg").read_text(), "run scripts/diagrams.sh"


@pytest.mark.parametrize("state", ["created", "validating", "probing", "serving", "draining", "stopped", "failed"])
def test_status_page_highlights_each_state(state: str) -> None:
    from resync_fsm.web.page import ACTIVE_FILL, highlight, lifecycle_svg

    svg = highlight(lifecycle_svg(), state)
    assert svg.count(ACTIVE_FILL) == 1
    node = svg[svg.index(f"<title>{state}</title>"):]
    assert node.index(ACTIVE_FILL) < node.index("</g>")
