"""systemd socket activation: inherited listening sockets become the default binds (sd_listen_fds(3)).

systemd passes ``LISTEN_FDS`` sockets from descriptor 3 on, with ``LISTEN_PID``
set to the pid they are meant for (a child that inherited the environment must
not take them) and, with ``FileDescriptorName=``, ``LISTEN_FDNAMES``
(colon-separated). When they are meant for this process and ``server.bind`` is
not given (nor Resync's SERVER_HOST/SERVER_PORT), the binds are ``fd://3`` …
``fd://(3 + LISTEN_FDS - 1)``, as Gunicorn does; an explicit bind wins, and may
still name an inherited socket as ``fd://N``. :func:`unset` then removes the
variables, as ``sd_listen_fds(1)`` does, so no child process sees them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import Any

from .sources import Raw

__all__ = ["LISTEN_FDS_START", "default_bind", "listen_fds", "unset"]

LISTEN_FDS_START = 3  # SD_LISTEN_FDS_START
_NAMES = ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")


def listen_fds(environ: Mapping[str, str], pid: int | None = None) -> list[tuple[int, str]]:
    """The sockets passed to this process: ``[(fd, name), ...]``, empty when none are (or they
    are meant for another pid). ``name`` is from ``LISTEN_FDNAMES``, else ``"unknown"`` (systemd's)."""
    pid = os.getpid() if pid is None else pid
    count, owner = environ.get("LISTEN_FDS", ""), environ.get("LISTEN_PID", "")
    if not (count.isascii() and count.isdigit() and owner.strip() == str(pid)):
        return []
    names = environ.get("LISTEN_FDNAMES", "").split(":")
    return [(LISTEN_FDS_START + i, names[i] if i < len(names) and names[i] else "unknown")
            for i in range(min(int(count), 1024))]


def default_bind(values: dict[str, Any], picked: dict[str, Raw], environ: Mapping[str, str]) -> None:
    """Set ``server.bind`` to the activated sockets when it was not given (see the module)."""
    sockets = listen_fds(environ)
    if not sockets or picked["server.bind"].source != "default":
        return
    values["server.bind"] = tuple(f"fd://{fd}" for fd, _ in sockets)
    names = ",".join(name for _, name in sockets)
    picked["server.bind"] = Raw(values["server.bind"], "env", f"LISTEN_FDS (names: {names})")


def unset(environ: MutableMapping[str, str]) -> None:
    """Remove ``LISTEN_FDS``, ``LISTEN_PID`` and ``LISTEN_FDNAMES`` from ``environ``."""
    for name in _NAMES:
        environ.pop(name, None)
