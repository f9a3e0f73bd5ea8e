"""Issue 24 item 12: every line about a timeout or a limit names the setting that bounds it.

Collects every message string in the package (f-strings and string constants that are not
docstrings, the settings table's help texts excepted) that speaks of a timeout, a deadline or a
limit, and requires it to name its setting, or to be one of the few fixed limits no setting moves.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import trio

from resync_fsm.probes import ProbeBoard, ProbeFailure, probe_all

from .fakes import spec

PACKAGE = Path(__file__).resolve().parent.parent / "resync_fsm"
ABOUT_A_BOUND = re.compile(r"\b(within|deadline|exceeds?|timed? ?out|in time|overr?an|ran out|limit)\b", re.I)
A_SETTING = re.compile(r"\b(server|startup|tls|log)\.[\w{}]+|\[startup\] timeout|\[\[probes\]\] timeout"
                       r"|termination_grace")
# Limits no setting moves: the 1 MiB cap on a config file, the kernel's unix socket path length, and
# the lifecycle's own description of probing (drawn in the diagrams).
FIXED = ("the limit; not read", "(the kernel's limit)", "until the startup deadline")


def message_strings() -> list[tuple[str, str]]:
    """``(file:line, text)`` of every whole message string in the package, docstrings and regular
    expressions excluded."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("fields.py", "fields_server.py"):  # the settings' own help texts: each about its setting
            continue
        tree = ast.parse(path.read_text())
        skip: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = node.body[0] if node.body else None
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    skip.add(id(first.value))
            if isinstance(node, ast.JoinedStr):
                skip.update(id(part) for part in ast.walk(node) if part is not node)
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "re.compile":  # a pattern, not a message
                skip.update(id(part) for arg in node.args for part in ast.walk(arg))
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.JoinedStr):
                text = ast.unparse(node)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            else:
                continue
            if " " in text and ABOUT_A_BOUND.search(text):
                found.append((f"{path.relative_to(PACKAGE.parent)}:{node.lineno}", text))
    return found


def test_every_line_about_a_timeout_or_a_limit_names_its_setting() -> None:
    lines = message_strings()
    assert len(lines) >= 8  # the collector finds them (lifespan, workers, probes, settings, metrics)
    unnamed = [f"{where}: {text}" for where, text in lines
               if not A_SETTING.search(text) and not any(fixed in text for fixed in FIXED)]
    assert unnamed == []


async def test_a_probe_timeout_names_the_probes_timeout_or_the_deadline(autojump_clock: trio.abc.Clock) -> None:
    async def hangs(probe: object) -> str:
        await trio.sleep_forever()
        raise ProbeFailure("timeout", "unreachable")

    for deadline, named in ((30.0, "no answer within 3 s ([[probes]] timeout)"),
                            (1.0, "no answer within 1 s (the startup deadline, startup.timeout)")):
        board = ProbeBoard((spec("db", timeout=3.0),))
        messages: list[str | None] = []
        board.listeners.append(lambda result, seen=messages: seen.append(result.message))
        await probe_all(board, hangs, deadline=trio.current_time() + deadline)
        # the first attempt's line (a later one may be cut by the deadline: its line names startup.timeout)
        assert messages[0] == named
        assert all("startup.timeout" in m or "[[probes]] timeout" in m for m in messages if m)
