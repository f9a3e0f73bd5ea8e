from __future__ import annotations

import io

from resync_fsm.logs import symbol


def stream(encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding)


def test_symbol_uses_emoji_when_the_encoding_can() -> None:
    assert (symbol(True, stream("utf-8")), symbol(False, stream("utf-8"))) == ("✅", "❌")


def test_symbol_falls_back_to_ascii() -> None:
    assert (symbol(True, stream("ascii")), symbol(False, stream("cp1252"))) == ("[OK]", "[ERR]")
