"""resync_fsm: run an ASGI service through validating → probing → serving → draining → stopped.

The public API is loaded on first use, so that ``--version``, ``diagram``
and ``check`` start without importing the server.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it
_EXPORTS = {
    "ConfigurationValidationError": "errors",
    "DependencyUnavailableError": "errors",
    "StartupError": "errors",
    "Lifecycle": "lifecycle",
    "Runner": "runner",
    "Settings": "settings",
    "ProbeSpec": "settings",
    "load_settings": "settings",
    "ProbeResult": "probes",
    "check_http": "compat",
    "check_tcp": "compat",
    "cleanup_resources": "compat",
    "get_validated_settings": "compat",
    "symbol": "logs",
    "main": "cli",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
