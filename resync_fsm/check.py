"""``resync-fsm check``: validate and probe, print the results, exit 0, 69 or 78.

On a TTY each probe's line updates live (waiting, attempt n, ok in 12 ms,
failed: refused); off a TTY one result line per probe, or JSON with
``--json``. With ``-- CMD ARGS`` it runs CMD in its place once the checks
pass, as wait-for tools do. It imports neither Hypercorn nor the app.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

import trio

from . import startup
from .errors import EX_OK, ConfigurationValidationError
from .probes import ProbeBoard, ProbeResult
from .settings import Settings

__all__ = ["NO_PROBES", "check", "live_line", "result_line"]

_REFRESH = 0.1  # seconds between redraws on a TTY


NO_PROBES = "no probes configured"


def _non_critical(result: ProbeResult) -> str:
    return "" if result.critical or result.ok else " (non-critical: serving would go on, with a warning)"


def result_line(result: ProbeResult) -> str:
    """One probe's result line off a TTY; a failing non-critical probe says so."""
    return result.line() + _non_critical(result)


def live_line(result: ProbeResult, attempt: int | None) -> str:
    """One probe's line on a TTY: ``ok``, ``...`` (waiting or attempt n), ``FAILED`` or ``skipped``."""
    head = f"{result.name} ({result.kind} {result.target})"
    if result.ok:
        return f"ok      {head}: ok in {result.latency_ms:.0f} ms"
    if attempt is not None:
        last = f", last: {result.reason}" if result.reason else ""
        return f"...     {head}: attempt {attempt}{last}"
    if result.status == "fail":
        return f"FAILED  {head}: failed: {result.reason} ({result.attempts} attempts){_non_critical(result)}"
    if result.status == "skipped":
        return f"skipped {head}: {result.reason}"
    return f"...     {head}: waiting"


class _LiveDisplay:
    """Redraws one line per probe in place (ANSI: cursor up, clear line)."""

    def __init__(self, board: ProbeBoard, out: TextIO) -> None:
        self.board, self.out, self.drawn = board, out, 0

    def draw(self) -> None:
        lines = [live_line(r, self.board.in_progress.get(r.name)) for r in self.board.results.values()]
        self.out.write(f"\x1b[{self.drawn}F" if self.drawn else "")
        self.out.write("".join(f"\x1b[2K{line}\n" for line in lines))
        self.out.flush()
        self.drawn = len(lines)

    async def run(self) -> None:
        while True:
            self.draw()
            await trio.sleep(_REFRESH)


async def _probe(settings: Settings, live: TextIO | None) -> ProbeBoard:
    board = ProbeBoard(settings.probes)
    if live is None:
        return await startup.probe(settings, board=board)
    display = _LiveDisplay(board, live)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(display.run)
        await startup.probe(settings, board=board)
        nursery.cancel_scope.cancel()
    display.draw()  # the final picture
    return board


def check(validated: tuple[Settings | None, ConfigurationValidationError | None], *, as_json: bool = False,
          command: Sequence[str] = (), before_exec: Callable[[], None] = lambda: None) -> int:
    """Probe once the settings that :func:`resync_fsm.startup.validate` gave (or report its error), print
    the results and the settings' warnings (on stderr), and return 0, 69 or 78; with ``command``
    (``-- CMD ARGS``) call ``before_exec`` and exec it once the checks pass (127 if it cannot be run).
    KeyboardInterrupt propagates (the CLI makes it 130)."""
    settings, error = validated
    if settings is None:
        assert error is not None
        if as_json:
            print(json.dumps({"ok": False, "error": error.one_line(), "details": error.details}))
        print(error.one_line(), file=sys.stderr)
        return error.exit_code
    warnings = settings.warnings()
    for warning in warnings if not as_json else ():
        print(f"warning: {warning}", file=sys.stderr)
    live = sys.stdout if sys.stdout.isatty() and not as_json and settings.probes else None
    board = trio.run(_probe, settings, live)
    if as_json:
        print(json.dumps({"ok": board.critical_ok, "probes": board.as_list(), "warnings": warnings}))
    elif not settings.probes:
        print(NO_PROBES)
    elif live is None:
        for result in board.results.values():
            print(result_line(result))
    unavailable = startup.unavailable(board, settings)
    if unavailable is not None:
        print(unavailable.one_line(), file=sys.stderr)
        return unavailable.exit_code
    argv = list(command[1:] if command[:1] == ["--"] else command)
    if argv:
        before_exec()
        sys.stdout.flush()
        try:
            os.execvp(argv[0], argv)
        except OSError as exc:
            print(f"check: cannot run {argv[0]!r}: {exc.strerror}", file=sys.stderr)
            return 127
    return EX_OK
