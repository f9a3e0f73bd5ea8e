"""``server.loop = "auto"`` and ``server.engine = "auto"`` (the defaults) resolved once, at validation (issue 25).

The rule, short enough to remember (README "Engines", DESIGN §5):

- loop: ``uvloop`` where it is installed, else ``asyncio`` — Uvicorn's ``--loop auto``;
- engine: ``hypercorn`` when the app's loop is ``trio`` (Uvicorn serves asyncio and uvloop
  only) or the settings ask for HTTP/2 — TLS (Hypercorn offers ``h2`` by ALPN) or
  ``server.h2c = true`` given explicitly (HTTP/2 over cleartext) — since only Hypercorn speaks
  it; else ``uvicorn`` (the faster server for an asyncio app), or ``hypercorn`` if Uvicorn is
  not installed.

:func:`resolve` replaces each ``"auto"`` in the loader's parsed values by the choice and
returns, for each field it resolved, the source that ``config``, ``/status``, the
``listening`` event and ``resync_fsm_build_info`` show: ``"auto: <why>"``. An explicit
choice is never changed: the combinations one engine cannot honour stay configuration
errors (exit 78) naming both fields (:func:`~.conflicts.server_conflicts`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Collection
from typing import Any

__all__ = ["AUTO", "AUTO_PREFIX", "installed", "resolve"]

AUTO = "auto"
AUTO_PREFIX = "auto: "  # a resolved field's source starts with it


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (found on the path; not imported)."""
    return importlib.util.find_spec(module) is not None


def resolve(values: dict[str, Any], given: Collection[str] = (),
            has: Callable[[str], bool] = installed) -> dict[str, str]:
    """Resolve ``server.loop`` and ``server.engine`` when ``"auto"`` in ``values`` (field path ->
    parsed value; changed in place); ``given`` holds the paths set by a source other than the
    defaults; ``has(module)`` says what is installed. Returns ``{path: "auto: <why>"}`` for each
    field resolved."""
    why: dict[str, str] = {}
    if values["server.loop"] == AUTO:
        fast = has("uvloop")
        values["server.loop"] = "uvloop" if fast else "asyncio"
        why["server.loop"] = AUTO_PREFIX + ("uvloop is installed" if fast else "uvloop is not installed")
    if values["server.engine"] == AUTO:
        engine, reason = _engine(values, given, has)
        values["server.engine"] = engine
        why["server.engine"] = AUTO_PREFIX + reason
    return why


def _engine(values: dict[str, Any], given: Collection[str], has: Callable[[str], bool]) -> tuple[str, str]:
    loop = values["server.loop"]
    if loop == "trio":
        return "hypercorn", "server.loop is trio, which only Hypercorn serves"
    if values.get("tls.certfile") and values.get("tls.keyfile"):
        return "hypercorn", "TLS is on: Hypercorn offers HTTP/2 by ALPN, Uvicorn HTTP/1.1 only"
    if values["server.h2c"] and "server.h2c" in given:
        return "hypercorn", "server.h2c = true was given: only Hypercorn speaks HTTP/2 over cleartext"
    if not has("uvicorn"):
        return "hypercorn", "uvicorn is not installed"
    return "uvicorn", f"an HTTP/1.1 app on {loop}: Uvicorn, the faster server there"
