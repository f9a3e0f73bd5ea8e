"""Parsers for where things are: URL paths, app references, URLs, bind addresses, HTTP statuses.

Split from :mod:`.parsers` (which re-exports them); the same contract: a parser
raises :class:`~resync_fsm.errors.Invalid` saying what was expected, never
quoting the value.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import urllib.parse
from collections.abc import Callable
from typing import Any

from ..errors import Invalid

__all__ = ["app_ref", "bind_address", "status_spec", "url", "url_path"]

Parser = Callable[[Any], Any]


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

    ``:port`` is every IPv4 interface, as Hypercorn binds it (returned as ``0.0.0.0:port``);
    a bare ``port`` is refused with what to write instead (Hypercorn would take it for a host).

    ``fd://N`` is a listening socket this process inherited as descriptor ``N``
    (systemd socket activation, as Hypercorn and Gunicorn take it): it must be
    an open socket now, or :class:`Invalid` says so.
    """
    expected = "'host:port', '[::1]:port', 'unix:/path' or 'fd://N' with a port from 0 to 65535"
    if not isinstance(value, str):
        raise Invalid(expected)
    text: str = value.strip()
    if text.startswith("unix:") and len(text) > len("unix:"):
        path = text[len("unix:"):]
        if len(os.fsencode(path)) > 107:  # sun_path holds 108 bytes with the NUL
            raise Invalid("'unix:/path' with a path of at most 107 bytes (the kernel's limit)")
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise Invalid(f"'unix:/path' in an existing directory: {parent} does not exist")
        return text
    if text.startswith("fd://"):
        if not re.fullmatch(r"[0-9]{1,7}", text[5:], re.ASCII):
            raise Invalid("'fd://N' with N an open socket's descriptor number")
        if not _listening(int(text[5:])):
            raise Invalid(f"'fd://N' with N a listening socket's descriptor: {text[5:]} is not one in this process")
        return text
    if re.fullmatch(r"[0-9]{1,5}", text, re.ASCII):  # Hypercorn reads '8000' as a host: say what to write
        raise Invalid(f"'host:port': for port {text} on every interface '0.0.0.0:{text}' (or ':{text}'), "
                      f"on this machine only '127.0.0.1:{text}' (or --port {text})")
    host, sep, port = text.rpartition(":")
    if sep and not host and re.fullmatch(r"[0-9]{1,5}", port, re.ASCII):
        host, text = "0.0.0.0", "0.0.0.0" + text  # ':8000': every IPv4 interface, as Hypercorn binds ('', 8000)
    if not sep or not host or not re.fullmatch(r"[0-9]{1,5}", port, re.ASCII) or int(port) > 65535:
        raise Invalid(expected)
    if host.startswith("[") != host.endswith("]"):
        raise Invalid(expected)
    if ":" in host and not host.startswith("["):  # IPv6 needs brackets: 'x:1:2' is no host and port
        raise Invalid(expected + " (an IPv6 address in brackets: '[::1]:8000')")
    if not re.fullmatch(r"\[[0-9A-Fa-f:.]+(%[\w.-]+)?\]|[A-Za-z0-9._-]+", host, re.ASCII):
        raise Invalid(expected + " (a host name or an IP address: no scheme, path, space or list)")
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
