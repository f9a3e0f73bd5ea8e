"""Server settings that cannot go together: :func:`server_conflicts` (each a 78 naming every field involved)."""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

__all__ = ["CROSS_FIELD", "listener_key", "server_conflicts"]

_HEALTH_PATHS = ("server.livez_path", "server.readyz_path", "server.status_path", "server.metrics_path")
CROSS_FIELD = (*_HEALTH_PATHS, "server.engine", "server.loop", "server.workers", "server.management_bind",
               "server.bind", "server.reload")


def server_conflicts(values: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """Server fields that cannot go together: ``[(("server.livez_path", "server.readyz_path"), message)]``.

    ``values`` maps field paths to parsed values. One path cannot answer both
    liveness and readiness (DESIGN §5): the second route would never be reached.
    Uvicorn serves asyncio and uvloop only (issue "a second engine").
    """
    by_path: dict[str, list[str]] = {}
    for key in _HEALTH_PATHS:
        by_path.setdefault(values[key], []).append(key)
    found = [(tuple(keys), f"must differ, all are {path!r}") for path, keys in by_path.items() if len(keys) > 1]
    if values["server.engine"] == "uvicorn" and values["server.loop"] == "trio":
        found.append((("server.engine", "server.loop"),
                      "server.engine = 'uvicorn' cannot serve server.loop = 'trio' (Uvicorn runs on asyncio or "
                      "uvloop only): choose server.loop 'asyncio' or 'uvloop', or server.engine 'hypercorn'"))
    binds = [*values["server.bind"], *(values["server.management_bind"] or ())]
    keys = [listener_key(bind) for bind in binds]
    twice = sorted({bind for bind, key in zip(binds, keys, strict=True)
                    if keys.count(key) > 1 and not bind.endswith(":0")})
    if twice:
        found.append((("server.bind", "server.management_bind"),
                      f"each address may be listened on once: {', '.join(twice)} is given twice"))
    if values["server.workers"] > 1 and values["server.management_bind"]:
        found.append((("server.workers", "server.management_bind"),
                      "a management listener is not supported with worker processes yet: run one process "
                      "(server.workers = 1, one per pod on Kubernetes) or drop server.management_bind"))
    if values["server.reload"] and values["server.workers"] > 1:
        found.append((("server.reload", "server.workers"),
                      "reload serves one generation of the app at a time: use server.workers = 1 for "
                      "development, or drop reload"))
    return found


def listener_key(bind: str) -> str:
    """What ``bind`` listens on, whatever its spelling: an IP literal in its canonical form
    (``[0:0:0:0:0:0:0:1]:80`` is ``[::1]:80``; ``127.000.000.001`` is ``127.0.0.1``, as the socket
    layer reads it), a unix socket's normalised absolute path; anything else (a host name) as given."""
    if bind.startswith("unix:"):
        return "unix:" + os.path.normpath(os.path.abspath(bind[5:]))
    if bind.startswith("fd://"):
        return bind
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    try:
        canonical = str(ipaddress.ip_address(host))
    except ValueError:
        try:
            canonical = socket.inet_ntoa(socket.inet_aton(host)) if host.count(".") == 3 else host
        except OSError:
            canonical = host
    return f"[{canonical}]:{port}" if ":" in canonical else f"{canonical}:{port}"
