"""Server settings that cannot go together: :func:`server_conflicts` (each a 78 naming every field involved)."""

from __future__ import annotations

from typing import Any

__all__ = ["CROSS_FIELD", "server_conflicts"]

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
    twice = sorted({bind for bind in binds if binds.count(bind) > 1 and not bind.endswith(":0")})
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
