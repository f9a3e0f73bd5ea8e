"""Value parsers for the table of fields: TOML values or environment strings in, typed values out.

A parser raises :class:`Invalid` with what was expected; the caller decides
whether the offending value may be shown (never for a secret). Numbers,
booleans, choices and text are here; where things are (binds, URLs, paths,
statuses) in :mod:`.parsers_address`, re-exported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..errors import Invalid
from .parsers_address import Parser, app_ref, bind_address, status_spec, url, url_path

__all__ = [
    "Invalid",
    "Parser",
    "app_ref",
    "bind_address",
    "boolean",
    "choice",
    "choices_of",
    "describe",
    "engine_name",
    "integer",
    "loop_name",
    "metavar_of",
    "number",
    "service_port",
    "status_spec",
    "string_list",
    "text",
    "url",
    "url_path",
]


# What each parser takes, for the flags' help: parser -> (metavar, choices). See :func:`describe`.
_DESCRIBED: dict[Parser, tuple[str, tuple[str, ...]]] = {}


def describe(parse: Parser, metavar: str = "", choices: tuple[str, ...] = ()) -> Parser:
    """Record what ``parse`` takes (``"INT"``, or its ``choices``) for ``--help``; returns ``parse``."""
    _DESCRIBED[parse] = (metavar or "{" + ",".join(choices) + "}", choices)
    return parse


def metavar_of(parse: Parser) -> str:
    """The metavar :func:`describe` recorded for ``parse`` (``"VALUE"`` when none was)."""
    return _DESCRIBED.get(parse, ("VALUE", ()))[0]


def choices_of(parse: Parser) -> tuple[str, ...]:
    """The choices :func:`describe` recorded for ``parse`` (empty when it takes no fixed set)."""
    return _DESCRIBED.get(parse, ("", ()))[1]


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


MAX_SECONDS = 86400.0  # one day: no timeout or delay of a lifecycle runner is longer

# ASCII decimal only: \d, int(), float() and str.isdigit() also take '²', '١٠',
# full-width digits, '1_0', '1e300', 'inf' and 'nan' (issue 13).
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def _ascii_int(value: Any) -> int | None:
    """An int from a TOML integer or an ASCII-decimal string; ``None`` for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def number(*, minimum: float = 0.0, above: bool = False, maximum: float = MAX_SECONDS) -> Parser:
    """Seconds: a TOML number or an ASCII decimal string (``"2.5"``), ``minimum``..``maximum``.

    ``above`` excludes ``minimum`` itself. Returns a float. Exponents, ``_``,
    ``inf``, ``nan`` and non-ASCII digits raise :class:`Invalid`, whose text
    states the bounds ("a number of seconds from 0 to 86400").
    """
    expected = (f"a number of seconds above {minimum:g}, up to {maximum:g}" if above
                else f"a number of seconds from {minimum:g} to {maximum:g}")

    def parse(value: Any) -> float:
        if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
            value = float(value.strip())
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(expected)
        if not minimum <= value <= maximum or (above and value == minimum):  # False for nan
            raise Invalid(expected)
        return float(value)

    return describe(parse, "SECONDS")


def integer(lo: int, hi: int) -> Parser:
    """A TOML integer or an ASCII decimal string, ``lo``..``hi`` inclusive; returns an int."""
    expected = f"an integer from {lo} to {hi}"

    def parse(value: Any) -> int:
        result = _ascii_int(value)
        if result is None or not lo <= result <= hi:
            raise Invalid(expected)
        return result

    return describe(parse, "INT")


def service_port(lo: int, hi: int) -> Parser:
    """A port as :func:`integer`, or Kubernetes' service-link form ``tcp://10.0.0.7:8000`` (the port).

    Kubernetes injects ``<SERVICE>_PORT=tcp://host:port`` (``udp://``, ``sctp://``
    for such ports) for every Service in the namespace, so a Service named
    ``server`` or ``tws`` sets Resync's ``SERVER_PORT``/``TWS_PORT`` that way (issue 13).
    """
    plain = integer(lo, hi)

    def parse(value: Any) -> int:
        scheme, sep, rest = value.strip().partition("://") if isinstance(value, str) else ("", "", "")
        if sep and scheme.lower() in ("tcp", "udp", "sctp"):
            host, sep, port = rest.rpartition(":")
            if sep and host:
                return int(plain(port))
            raise Invalid(f"an integer from {lo} to {hi}, or tcp://host:port")
        return int(plain(value))

    return parse


def boolean(value: Any) -> bool:
    """A TOML boolean, or true/false, 1/0, yes/no, on/off in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise Invalid("true or false (also 1/0, yes/no, on/off)")


def choice(*options: str) -> Parser:
    """One of ``options`` (lower case), matched in any case and returned in lower case."""
    def parse(value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in options:
            return value.strip().lower()
        raise Invalid("one of " + ", ".join(options))

    return describe(parse, choices=options)


def _installed(name: str, otherwise: str) -> None:
    """Raise :class:`Invalid` unless the module ``name`` (and extra of the same name) is installed."""
    import importlib.util

    if importlib.util.find_spec(name) is None:
        raise Invalid(f"{otherwise}: {name} is not installed (pip install 'resync_fsm[{name}]')")


LOOPS = ("auto", "asyncio", "uvloop", "trio")
ENGINES = ("auto", "hypercorn", "uvicorn")


def loop_name(value: Any) -> str:
    """``auto`` (resolved at validation: :mod:`.auto`), ``asyncio``, ``uvloop`` (only when installed) or ``trio``."""
    name = choice(*LOOPS)(value)
    if name == "uvloop":
        _installed("uvloop", "asyncio or trio")
    return str(name)


def engine_name(value: Any) -> str:
    """``auto`` (resolved at validation: :mod:`.auto`), ``hypercorn`` or ``uvicorn`` (only when installed)."""
    name = choice(*ENGINES)(value)
    if name == "uvicorn":
        _installed("uvicorn", "hypercorn")
    return str(name)


describe(app_ref, "MODULE:ATTR")
describe(bind_address, "ADDRESS")
describe(url_path, "PATH")
describe(loop_name, choices=LOOPS)
describe(engine_name, choices=ENGINES)
describe(boolean, "BOOL")


def text(*, min_length: int = 1) -> Parser:
    """A string of at least ``min_length`` characters, without NUL; returned unchanged."""
    def parse(value: Any) -> str:
        if not isinstance(value, str) or len(value) < min_length or "\x00" in value:
            raise Invalid(f"a string of at least {min_length} character(s)")
        return value

    return describe(parse, "TEXT")


def string_list(item: Parser) -> Parser:
    """A TOML list, or a comma-separated string from the environment."""

    def parse(value: Any) -> tuple[Any, ...]:
        items: Sequence[Any]
        if isinstance(value, str):
            items = [part for part in value.split(",") if part.strip()]
        elif isinstance(value, (list, tuple)):
            items = value
        else:
            raise Invalid("a list")
        if not items:
            raise Invalid("a non-empty list")
        return tuple(item(v) for v in items)

    return describe(parse, metavar_of(item))


