"""State diagrams drawn from the live lifecycle machine: Mermaid, Graphviz DOT, and SVG via ``dot``."""

from __future__ import annotations

import shutil
import subprocess

from .errors import DiagramError
from .lifecycle import FINAL_STATES, INITIAL_STATE, STATES, TRANSITIONS, Lifecycle, edges

__all__ = ["FORMATS", "DiagramError", "render"]

FORMATS = ("mermaid", "dot", "svg")


def _edges() -> list[tuple[str, str, str, str]]:
    """The live machine's edges, in table order, each with its note from the table."""
    notes: dict[tuple[str, str], str] = {(event, source): note for event, source, _, note in TRANSITIONS}
    order: dict[tuple[str, str], int] = {(event, source): i for i, (event, source, _, _) in enumerate(TRANSITIONS)}
    live = sorted(edges(Lifecycle().machine), key=lambda e: order.get((e[0], e[1]), len(order)))
    return [(event, source, dest, notes.get((event, source), "")) for event, source, dest in live]


def _label(event: str, note: str) -> str:
    return f"{event} ({note})" if note else event


def mermaid(active: str | None = None) -> str:
    """The lifecycle as a Mermaid ``stateDiagram-v2`` (DESIGN §6); ``active`` highlights one state."""
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL_STATE}"]
    lines += [f"    {src} --> {dst}: {_label(ev, note)}" for ev, src, dst, note in _edges()]
    lines += [f"    {name} --> [*]" for name, _, final in STATES if final]
    if active is not None:
        lines += ["    classDef active fill:#ffd54f,stroke:#e65100,stroke-width:3px",
                  f"    class {active} active"]
    return "\n".join(lines) + "\n"


def dot(active: str | None = None) -> str:
    """The lifecycle as Graphviz DOT (DESIGN §6)."""
    lines = [
        "digraph lifecycle {",
        "    rankdir=LR;",
        '    node [shape=box, style=rounded, fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
        "    __start [shape=point, width=0.15];",
    ]
    for name, description, _ in STATES:
        attrs = [f'tooltip="{description}"']
        if name in FINAL_STATES:
            attrs.append("peripheries=2")
        if name == active:
            attrs.append('style="rounded,filled", fillcolor="#ffd54f"')
        lines.append(f"    {name} [{', '.join(attrs)}];")
    lines.append(f"    __start -> {INITIAL_STATE};")
    lines += [f'    {src} -> {dst} [label="{_label(ev, note)}"];' for ev, src, dst, note in _edges()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def svg(active: str | None = None) -> str:
    """The lifecycle as SVG, drawn by Graphviz's ``dot``; raises DiagramError without it."""
    exe = shutil.which("dot")
    if exe is None:
        raise DiagramError(
            "svg needs Graphviz's `dot`, which is not installed: install the graphviz package "
            "(e.g. `apt-get install graphviz`), or use --format mermaid or --format dot"
        )
    done = subprocess.run([exe, "-Tsvg"], input=dot(active), capture_output=True, text=True,
                          check=False, timeout=30)
    if done.returncode != 0:
        raise DiagramError(f"dot failed: {done.stderr.strip()}")
    return done.stdout


def render(fmt: str, active: str | None = None) -> str:
    """The diagram in ``fmt`` (one of :data:`FORMATS`); raises DiagramError for svg without Graphviz."""
    if fmt not in FORMATS:
        raise DiagramError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return {"mermaid": mermaid, "dot": dot, "svg": svg}[fmt](active)
