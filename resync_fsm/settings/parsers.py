"""Value parsers for the table of fields: TOML values or environment strings in, typed values out.

A parser raises :class:`Invalid` with what was expected; the caller decides
whether the offending value may be shown (never for a secret).
"""

from __future__ import annotations

import os
import re
import socket
import stat
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
    "engine_name",
    "integer",
    "loop_name",
    "number",
    "service_port",
    "status_spec",
    "string_list",
    "text",
    "url",
    "url_path",
]

Parser = Callable[[Any], Any]

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

    return parse


def integer(lo: int, hi: int) -> Parser:
    """A TOML integer or an ASCII decimal string, ``lo``..``hi`` inclusive; returns an int."""
    expected = f"an integer from {lo} to {hi}"

    def parse(value: Any) -> int:
        result = _ascii_int(value)
        if result is None or not lo <= result <= hi:
            raise Invalid(expected)
        return result

    return parse


def service_port(lo: int, hi: int) -> Parser:
    """A port as :func:`integer`, or Kubernetes' service-link form ``tcp://10.0.0.7:8000`` (the port).

    Kubernetes injects ``<SERVICE>_PORT=tcp://host:port`` for every Service in
    the namespace, so a Service named ``server`` or ``tws`` sets Resync's
    ``SERVER_PORT``/``TWS_PORT`` that way (issue 13).
    """
    plain = integer(lo, hi)

    def parse(value: Any) -> int:
        if isinstance(value, str) and value.strip().lower().startswith(("tcp://", "udp://")):
            host, sep, port = value.strip()[len("tcp://"):].rpartition(":")
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

    return parse


def _installed(name: str, otherwise: str) -> None:
    """Raise :class:`Invalid` unless the module ``name`` (and extra of the same name) is installed."""
    import importlib.util

    if importlib.util.find_spec(name) is None:
        raise Invalid(f"{otherwise}: {name} is not installed (pip install 'resync_fsm[{name}]')")


def loop_name(value: Any) -> str:
    """``asyncio``, ``uvloop`` (only when installed) or ``trio``."""
    name = choice("asyncio", "uvloop", "trio")(value)
    if name == "uvloop":
        _installed("uvloop", "asyncio or trio")
    return str(name)


def engine_name(value: Any) -> str:
    """``hypercorn`` or ``uvicorn`` (only when installed: the ``resync_fsm[uvicorn]`` extra)."""
    name = choice("hypercorn", "uvicorn")(value)
    if name == "uvicorn":
        _installed("uvicorn", "hypercorn")
    return str(name)


def text(*, min_length: int = 1) -> Parser:
    """A string of at least ``min_length`` characters, without NUL; returned unchanged."""
    def parse(value: Any) -> str:
        if not isinstance(value, str) or len(value) < min_length or "\x00" in value:
            raise Invalid(f"a string of at least {min_length} character(s)")
        return value

    return parse


_PATH_CHARS = re.compile(r"/[!$&'()*+,;=:@%/~.\w-]*", re.ASCII)


def url_path(value: Any) -> str:
    """An absolute URL path (RFC 3986 §3.3) for a health endpoint: ``/livez``.

    No query or fragment (``?``, ``#``), whitespace, control or non-ASCII
    characters: a router never matches those as a path.
    """
    if isinstance(value, str) and _PATH_CHARS.fullmatch(value):
        return value
    raise Invalid("a URL path starting with '/', without '?', '#', spaces or control characters")


def app_ref(value: Any) -> str:
    """``module:attribute`` (dotted both sides), as Hypercorn and uvicorn take it."""
    if isinstance(value, str) and re.fullmatch(r"[\w.]+:[\w.]+", value.strip()):
        return value.strip()
    raise Invalid("'module:attribute', e.g. 'myservice.main:app'")


def url(*schemes: str) -> Parser:
    """A URL (RFC 3986) with one of ``schemes`` and a host; a port, when given, must parse.

    Returned stripped but otherwise unchanged, userinfo included: whoever shows
    it uses :func:`~resync_fsm.redaction.redact_url`.
    """
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
    """``host:port``, ``[v6]:port``, ``unix:/path`` or ``fd://N``; port 0 picks a free one.

    ``fd://N`` is a listening socket this process inherited as descriptor ``N``
    (systemd socket activation, as Hypercorn and Gunicorn take it): it must be
    an open socket now, or :class:`Invalid` says so.
    """
    expected = "'host:port', '[::1]:port', 'unix:/path' or 'fd://N' with a port from 0 to 65535"
    if not isinstance(value, str):
        raise Invalid(expected)
    text: str = value.strip()
    if text.startswith("unix:") and len(text) > len("unix:"):
        return text
    if text.startswith("fd://"):
        if not re.fullmatch(r"[0-9]{1,7}", text[5:], re.ASCII):
            raise Invalid("'fd://N' with N an open socket's descriptor number")
        if not _listening(int(text[5:])):
            raise Invalid(f"'fd://N' with N a listening socket's descriptor: {text[5:]} is not one in this process")
        return text
    host, sep, port = text.rpartition(":")
    if not sep or not host or not re.fullmatch(r"[0-9]{1,5}", port, re.ASCII) or int(port) > 65535:
        raise Invalid(expected)
    if host.startswith("[") != host.endswith("]"):
        raise Invalid(expected)
    return text


def _listening(fd: int) -> bool:
    """Whether descriptor ``fd`` is a listening stream socket (SO_ACCEPTCONN), without closing it."""
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return False
        with socket.socket(fileno=os.dup(fd)) as sock:
            return sock.type == socket.SOCK_STREAM and bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    except OSError:
        return False


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


_STATUS_RANGE = re.compile(r"\s*([0-9]{3})\s*-\s*([0-9]{3})\s*", re.ASCII)
_STATUS_BELOW = re.compile(r"\s*<\s*([0-9]{3})\s*", re.ASCII)
_STATUS_CODE = re.compile(r"\s*([0-9]{3})\s*", re.ASCII)


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
    if isinstance(value, list) and value and all(isinstance(v, (int, str)) for v in value):
        return tuple(r for v in value for r in status_spec(v))
    if isinstance(value, str):
        if m := _STATUS_CODE.fullmatch(value):
            return status_spec(int(m[1]))
        if (m := _STATUS_BELOW.fullmatch(value)) and 101 <= int(m[1]) <= 600:
            return ((100, int(m[1]) - 1),)
        if (m := _STATUS_RANGE.fullmatch(value)) and 100 <= int(m[1]) <= int(m[2]) <= 599:
            return ((int(m[1]), int(m[2])),)
        if "," in value:
            return status_spec([v.strip() for v in value.split(",")])
    raise Invalid(expected)
