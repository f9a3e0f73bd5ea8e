"""``resync-fsm check``: validate and probe, print the results, exit 0, 69 or 78.

With ``-- CMD ARGS`` it runs CMD in its place once the checks pass, as
wait-for tools do. It imports neither Hypercorn nor the app.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import trio

from .errors import EX_OK, ConfigurationValidationError
from .probes import ProbeBoard, open_attempt, probe_all, unavailable_error
from .settings import Settings, load_settings

__all__ = ["check"]


async def _probe(settings: Settings) -> ProbeBoard:
    board = ProbeBoard(settings.probes)
    async with open_attempt(settings.probes) as attempt:
        await probe_all(board, attempt, deadline=trio.current_time() + settings.startup.timeout)
    return board


def check(load_kwargs: dict[str, Any], *, as_json: bool = False, command: Sequence[str] = ()) -> int:
    try:
        settings = load_settings(**load_kwargs)
    except ConfigurationValidationError as exc:
        if as_json:
            print(json.dumps({"ok": False, "error": exc.one_line(), "details": exc.details}))
        print(exc.one_line(), file=sys.stderr)
        return exc.exit_code
    board = trio.run(_probe, settings)
    ok = board.critical_ok
    if as_json:
        print(json.dumps({"ok": ok, "probes": board.as_list()}))
    else:
        for result in board.results.values():
            print(result.line())
    if not ok:
        error = unavailable_error(board, settings.startup.timeout)
        print(error.one_line(), file=sys.stderr)
        return error.exit_code
    argv = list(command[1:] if command[:1] == ["--"] else command)
    if argv:
        sys.stdout.flush()
        try:
            os.execvp(argv[0], argv)
        except OSError as exc:
            print(f"check: cannot run {argv[0]!r}: {exc.strerror}", file=sys.stderr)
            return 127
    return EX_OK
