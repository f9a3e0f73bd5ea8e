"""The framing conformance list (tests/e2e/framing.py) against the real CLI on every engine and loop:
each raw request gets the RFC's answer, and the connection closes exactly when the list says, whether the
request arrives in one write or in pieces (issues 24 and 25)."""

from __future__ import annotations

import signal
from urllib.parse import urlsplit

import pytest
import trio

from .cli import running
from .framing import RULES, Rule
from .rawhttp import exchange

PIECE = 997  # bytes per write for "in pieces": a head over the limit arrives in many reads


@pytest.mark.parametrize("pieces", [False, True], ids=["one write", "in pieces"])
async def test_every_framing_rule(server_env: dict[str, str], pieces: bool) -> None:
    async with running("--app", "tests.e2e.apps:early_app", "--bind", "127.0.0.1:0", **server_env) as cli:
        port = urlsplit(await cli.url()).port or 0
        seen: dict[str, tuple[int | None, bool | None]] = {}
        for rule in RULES:
            try:
                seen[rule.name] = await exchange(port, rule.request, step=PIECE if pieces else 0, limit=5.0)
            except trio.TooSlowError:
                seen[rule.name] = (None, None)  # no answer, the connection left open
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    assert seen == {rule.name: (rule.status, rule.closes) for rule in RULES}, _table(seen)


def _table(seen: dict[str, tuple[int | None, bool | None]]) -> str:
    def rule_of(name: str) -> Rule:
        return next(r for r in RULES if r.name == name)

    return "\n" + "\n".join(f"{name}: {answer} expected {(rule_of(name).status, rule_of(name).closes)}"
                            for name, answer in seen.items() if answer != (rule_of(name).status, rule_of(name).closes))
