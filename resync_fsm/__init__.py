"""resync_fsm: run an ASGI service through validating → probing → serving → draining → stopped.

The public API. Names are imported on first use at run time, so that
``--version``, ``diagram`` and ``check`` start without importing the server;
type checkers see the real definitions through the ``TYPE_CHECKING`` imports.

The layout, one folder per role, and who may import whom (DESIGN §10; kept by
tests/test_import_rules.py, which reads every import, ``TYPE_CHECKING`` and
function-level ones included):

- leaves — ``version``, ``lifecycle`` (the table, :class:`~.lifecycle.State`,
  :class:`~.lifecycle.EventName`), ``errors``, ``logs``, ``log_config``, ``log_streams``, ``redaction``,
  ``diagram``, ``loops``, ``signal_buffer``, ``notify``: nothing of the package but other leaves
- ``settings/`` — leaves only
- ``probes/`` — settings and leaves
- ``web/`` — leaves and ``probes.results``; it answers from a view handed to it
  (``web.view``) and is tested with no runner
- ``serving/`` — web, settings and leaves, never the runner; its front
  (``compose``, ``interface``, ``engines``) never imports an engine: engines plug in
  by name (``serving.engines``). The engine subpackages (``serving.hypercorn``,
  ``serving.uvicorn``, ``serving.workers``) may use serving's shared modules, never
  each other, and each keeps its changes to third-party code in its ``patches``
- ``runner/`` — leaves, settings, probes, web, and of serving only its front
- entry points — this package, ``__main__``, ``cli`` (with ``flags``), ``check``, ``startup``,
  ``compat`` (Resync's API), ``app`` (the built-in app), ``worker`` (a worker
  process): anything
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .cli import main
    from .compat import check_http, check_tcp, cleanup_resources, get_validated_settings
    from .errors import ConfigurationValidationError, DependencyUnavailableError, LifespanError, StartupError
    from .lifecycle import Lifecycle
    from .logs import symbol
    from .probes import ProbeResult
    from .runner import Runner
    from .settings import ProbeSpec, Settings, load_settings

__all__ = [
    "ConfigurationValidationError",
    "DependencyUnavailableError",
    "LifespanError",
    "Lifecycle",
    "ProbeResult",
    "ProbeSpec",
    "Runner",
    "Settings",
    "StartupError",
    "__version__",
    "check_http",
    "check_tcp",
    "cleanup_resources",
    "get_validated_settings",
    "load_settings",
    "main",
    "symbol",
]

# name -> module that defines it (kept equal to the TYPE_CHECKING imports by a test)
_EXPORTS = {
    "ConfigurationValidationError": "errors",
    "DependencyUnavailableError": "errors",
    "LifespanError": "errors",
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


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
