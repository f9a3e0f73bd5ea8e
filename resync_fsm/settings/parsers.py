"""Value parsers for the table of fields: TOML values or environment strings in, typed values out.

A parser raises :class:`Invalid` with what was expected; the caller decides
whether the offending value may be shown (never for a secret).
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import Invalid

__all__ = [
    "Invalid",
    "Parser",
    "app_ref",
    "bind_address",
    "boolean",
    "choice",
    "integer",
    "number",
    "status_spec",
    "string_list",
    "text",
    "url",
    "url_path",
]

Parser = Callable[[Any], Any]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def number(*, minimum: float = 0.0, above: bool = False) -> Parser:
    """Seconds and the like: a finite number ``>= minimum`` (``> minimum`` when ``above``)."""
    bound = f"{'>' if above else '>='} {minimum:g}"

    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise Invalid(f"a number {bound}")
        try:
            result = float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            raise Invalid(f"a number {bound}") from None
        if not math.isfinite(result) or result < minimum or (above and result == minimum):
            raise Invalid(f"a number {bound}")
        return result

    return parse


def integer(lo: int, hi: int) -> Parser:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or isinstance(value, float):
            raise Invalid(f"an integer from {lo} to {hi}")
        try:
            result = int(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            raise Invalid(f"an integer from {lo} to {hi}") from None
        if not lo <= result <= hi:
            raise Invalid(f"an integer from {lo} to {hi}")
        return result

    return parse


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise Invalid("true or false (also 1/0, yes/no, on/off)")


def choice(*options: str) -> Parser:
    def parse(value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in options:
            return value.strip().lower()
        raise Invalid("one of " + ", ".join(options))

    return parse


def text(*, min_length: int = 1) -> Parser:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or len(value) < min_length or "\x00" in value:
            raise Invalid(f"a string of at least {min_length} character(s)")
        return value

    return parse


def url_path(value: Any) -> str:
    if isinstance(value, str) and value.startswith("/") and " " not in value:
        return value
    raise Invalid("a URL path starting with '/'")


def app_ref(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"[\w.]+:[\w.]+", value.strip()):
        return value.strip()
    raise Invalid("'module:attribute', e.g. 'myservice.main:app'")


def url(*schemes: str) -> Parser:
    expected = "a URL starting with " + " or ".join(f"{s}://" for s in schemes)

    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid(expected)
        try:
            parts = urllib.parse.urlsplit(value.strip())
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise Invalid(expected + " with a valid host and port") from None
        if parts.scheme.lower() not in schemes or not parts.hostname:
            raise Invalid(expected)
        return value.strip()

    return parse


def bind_address(value: Any) -> str:
    """``host:port``, ``[v6]:port`` or ``unix:/path``; port 0 picks a free one."""
    expected = "'host:port', '[::1]:port' or 'unix:/path' with a port from 0 to 65535"
    if not isinstance(value, str):
        raise Invalid(expected)
    text: str = value.strip()
    if text.startswith("unix:") and len(text) > len("unix:"):
        return text
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise Invalid(expected)
    if host.startswith("[") != host.endswith("]"):
        raise Invalid(expected)
    return text


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

    return parse


_STATUS_RANGE = re.compile(r"\s*(\d{3})\s*-\s*(\d{3})\s*")
_STATUS_BELOW = re.compile(r"\s*<\s*(\d{3})\s*")


def _is_range(r: Any) -> bool:
    return (isinstance(r, tuple) and len(r) == 2 and all(type(c) is int for c in r)
            and 100 <= r[0] <= r[1] <= 599)


def status_spec(value: Any) -> tuple[tuple[int, int], ...]:
    """``"<500"``, ``"200-399"``, ``200`` or ``[200, 204]`` as inclusive ranges."""
    expected = "'<500', '200-399', a status code, or a list of status codes"
    if isinstance(value, bool):
        raise Invalid(expected)
    if isinstance(value, int) and 100 <= value <= 599:
        return ((value, value),)
    if isinstance(value, tuple) and value and all(_is_range(r) for r in value):
        return value  # already parsed: ((low, high), ...)
    if isinstance(value, list) and value:
        return tuple(r for v in value for r in status_spec(v))
    if isinstance(value, str):
        if value.strip().isdigit():
            return status_spec(int(value))
        if m := _STATUS_BELOW.fullmatch(value):
            return ((100, int(m[1]) - 1),)
        if (m := _STATUS_RANGE.fullmatch(value)) and int(m[1]) <= int(m[2]):
            return ((int(m[1]), int(m[2])),)
        if "," in value:
            return status_spec([int(v) if v.strip().isdigit() else v for v in value.split(",")])
    raise Invalid(expected)
