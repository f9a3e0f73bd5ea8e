"""Keeping secrets out of every output: logs, errors, ``details``, ``/status``, dumps.

Two layers. Values known to be secret (a field marked secret, a URL's
userinfo) are masked where they are rendered. And every secret that was ever
read is registered here, so that :func:`scrub` can remove it from any text
that reaches an output anyway — an exception message quoting a URL, say.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

__all__ = ["MASK", "forget_secrets", "mask_query", "redact_url", "register_secret", "scrub", "scrub_data"]

MASK = "***"
_MIN_SECRET_LEN = 3  # shorter strings would mask ordinary words

_lock = threading.Lock()
_secrets: set[str] = set()
_longest_first: tuple[str, ...] = ()  # _secrets ordered for scrub(), rebuilt only when it changes


def register_secret(value: object) -> None:
    """Remember a secret so that :func:`scrub` removes it from any output (DESIGN §3, "Secrets").

    Its stripped, percent-encoded and percent-decoded forms are all
    registered; non-strings and strings under 3 characters are ignored (they
    would mask ordinary words). Thread-safe.
    """
    if not isinstance(value, str):
        return
    global _longest_first
    candidates = {value.strip(), urllib.parse.quote(value, safe=""), urllib.parse.unquote(value)}
    new = {c for c in candidates if len(c) >= _MIN_SECRET_LEN} - _secrets
    if new:
        with _lock:
            _secrets.update(new)
            _longest_first = tuple(sorted(_secrets, key=len, reverse=True))


def forget_secrets() -> None:
    """Forget every registered secret (tests; a new load in the same process registers its own)."""
    global _longest_first
    with _lock:
        _secrets.clear()
        _longest_first = ()


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ``***`` (longest first)."""
    for secret in _longest_first:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


_PLAIN = frozenset({int, float, bool, type(None)})  # never hold a secret: returned without a call


def scrub_data(value: Any) -> Any:
    """:func:`scrub` applied to every string inside nested dicts, lists and tuples.

    Runs on every log event (the access log's included), so plain numbers and
    ``None`` are passed over without a call and strings scrubbed directly.
    """
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {scrub(k) if type(k) is str else scrub_data(k):
                v if type(v) in _PLAIN else scrub(v) if type(v) is str else scrub_data(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_data(v) for v in value]
    return value


def redact_url(url: str) -> str:
    """The URL with any userinfo (user, password, token) replaced by ``***``; fails closed.

    The password (or a lone token) is registered as a secret on the way, and
    query parameters named like credentials (``?api_key=``) are masked too.
    Userinfo is everything between the scheme's ``://`` and the LAST ``@``
    (RFC 3986 §3.2.1 forbids an unencoded ``@`` there, but people write
    ``redis://:pa#ss@host`` anyway, and a parser would then see ``#ss@host``
    as a fragment and the password as a host: issue 13). So a password holding
    ``#``, ``/``, ``?`` or ``@`` is masked whole, at worst with some of the
    path. A value that is not a URL at all comes back unchanged.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    if "@" in rest:
        userinfo, _, rest = rest.rpartition("@")
        user, colon, password = userinfo.partition(":")
        # A lone user part is usually a token (https://TOKEN@host); a user beside
        # a password is a name like "default", which must not mask ordinary words.
        register_secret(password if colon and password else user)
        rest = f"{MASK}@{rest}"
    head, qmark, query = rest.partition("?")
    if qmark:
        query, hash_, fragment = query.partition("#")
        rest = f"{head}?{_redact_query(query)}{hash_}{fragment}"
    return f"{scheme}://{rest}"


_SECRET_PARAM = re.compile(r"(?i)(key|token|secret|password|passwd|pwd|sig|signature|auth)")


def mask_query(query: str) -> str:
    """``query`` (``a=1&api_key=x``) with the values of parameters named like credentials masked
    (``a=1&api_key=***``), nothing registered: for per-request output such as the access log."""
    return _redact_query(query, remember=False)


def _redact_query(query: str, *, remember: bool = True) -> str:
    """Mask the values of query parameters named like credentials (``?api_key=...``); ``remember``
    registers each masked value as a secret."""
    out = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        if sep and value and _SECRET_PARAM.search(name):
            if remember:
                register_secret(urllib.parse.unquote_plus(value))
                register_secret(value)
            value = MASK
        out.append(f"{name}{sep}{value}")
    return "&".join(out)
