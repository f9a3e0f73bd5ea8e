"""Parsers and cross-field checks for the server's production surface (issue 14).

TLS files, proxy peers, socket files and the app directory: each parser raises
:class:`~resync_fsm.errors.Invalid` (a problem naming the field, exit 78) so
that an unreadable certificate or an unknown user fails in ``validating``,
before anything binds or starts. The TLS files together are checked in
:mod:`.tls`.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import ssl
from typing import Any

from ..errors import Invalid
from .parsers import boolean, describe, url_path

__all__ = [
    "CLIENT_CERT_MODES",
    "directory",
    "exposure",
    "file_mode",
    "log_config",
    "owner",
    "peer_list",
    "readable_file",
    "root_path",
    "tls_ciphers",
]

# tls.client_cert → ssl.VerifyMode, as Hypercorn's --verify-mode and Uvicorn's --ssl-cert-reqs take it
CLIENT_CERT_MODES = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}


def _path(value: Any, expected: str) -> str:
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise Invalid(expected)
    return value.strip()


def readable_file(value: Any) -> str:
    """A path to a regular file this process can read (a certificate, a key); returned as given."""
    expected = "the path of a readable file"
    path = _path(value, expected)
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except (OSError, ValueError):
        raise Invalid(expected + " (it does not exist, is not a file, or is not readable)") from None
    if not os.path.isfile(path):
        raise Invalid(expected + " (it is not a regular file)")
    return path


def log_config(value: Any) -> str:
    """``log.config``: a readable JSON, YAML or INI logging configuration that parses (see
    :mod:`resync_fsm.log_config`); returned as given."""
    from ..log_config import read_log_config

    path = readable_file(value)
    try:
        read_log_config(path)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return path


def directory(value: Any) -> str:
    """An existing directory (``server.app_dir``); returned as given."""
    expected = "the path of an existing directory"
    path = _path(value, expected)
    try:
        if os.path.isdir(path):
            return path
    except ValueError:
        pass
    raise Invalid(expected)


def tls_ciphers(value: Any) -> str:
    """An OpenSSL cipher list (``"ECDHE+AESGCM"``) this OpenSSL accepts for TLS 1.2."""
    expected = "an OpenSSL cipher list, e.g. 'ECDHE+AESGCM'"
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise Invalid(expected)
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).set_ciphers(value.strip())
    except ssl.SSLError:
        raise Invalid(expected + " that this OpenSSL knows") from None
    return value.strip()


def peer_list(value: Any) -> tuple[str, ...]:
    """Trusted proxy peers: IP addresses, CIDR networks, ``unix:/path`` (every peer of the unix socket bound
    at that path, as Uvicorn's literals name a socket) or ``*`` (every peer, a unix socket's included, as
    in Uvicorn); a TOML list or a comma-separated string.

    Returns the normalised entries as strings (``"10.0.0.0/8"``, ``"127.0.0.1/32"``, ``"unix:/run/app.sock"``,
    ``"*"``); an empty string or list trusts no peer. Raises :class:`Invalid` on anything else.
    """
    import ipaddress  # only when the setting is given

    expected = "IP addresses or CIDR networks (e.g. '127.0.0.1, 10.0.0.0/8'), unix:/absolute/path, or '*'"
    if isinstance(value, str):
        items: list[Any] = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise Invalid(expected)
    out = []
    for item in items:
        if not isinstance(item, str):
            raise Invalid(expected)
        item = item.strip()
        if item == "*" or (item.startswith("unix:/") and "\x00" not in item):
            out.append(item)
            continue
        try:
            out.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise Invalid(expected) from None
    return tuple(out)


def root_path(value: Any) -> str:
    """The path prefix a proxy mounts the app under (ASGI ``root_path``): ``""`` or ``/api``, no trailing slash."""
    if isinstance(value, str) and value.strip() in ("", "/"):
        return ""
    try:
        return url_path(value).rstrip("/")
    except Invalid:
        raise Invalid("'' or a URL path starting with '/', e.g. '/api'") from None


_OCTAL = re.compile(r"0?o?[0-7]{3,4}", re.ASCII)


def file_mode(value: Any) -> int:
    """A unix permission mode: ``"660"``, ``"0660"`` or TOML's ``0o660``; returns the int (0o660)."""
    expected = "an octal file mode from 000 to 777, e.g. '660'"
    if isinstance(value, bool):
        raise Invalid(expected)
    if isinstance(value, int) and 0 <= value <= 0o777:
        return value
    if isinstance(value, str) and _OCTAL.fullmatch(value.strip().lower()):
        mode = int(value.strip().lower().replace("o", ""), 8)
        if mode <= 0o777:
            return mode
    raise Invalid(expected)


def owner(value: Any) -> tuple[int, int]:
    """``user`` or ``user:group`` (names or numeric ids) on this machine → ``(uid, gid)``.

    Without a group, the user's primary group. Raises :class:`Invalid` for an
    unknown user or group.
    """
    expected = "'user' or 'user:group' known on this machine"
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise Invalid(expected)
    user, _, group = value.strip().partition(":")
    try:
        entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
        if not group:
            return entry.pw_uid, entry.pw_gid
        gid = grp.getgrgid(int(group)).gr_gid if group.isdigit() else grp.getgrnam(group).gr_gid
    except (KeyError, ValueError, OverflowError):
        raise Invalid(expected) from None
    return entry.pw_uid, gid


def exposure(value: Any) -> bool | None:
    """``server.expose_status``: a boolean, or ``auto`` (``None``: decided by the runner, see
    docs/operations.md "Exposure")."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return None
    try:
        return boolean(value)
    except Invalid:
        raise Invalid("true, false or auto") from None


describe(readable_file, "FILE")
describe(log_config, "FILE")
describe(directory, "DIR")
describe(tls_ciphers, "CIPHERS")
describe(peer_list, "IPS")
describe(root_path, "PATH")
describe(file_mode, "MODE")
describe(owner, "USER[:GROUP]")
describe(exposure, choices=("true", "false", "auto"))
