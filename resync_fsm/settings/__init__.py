"""Settings: one table of fields, read from TOML, ``.env``, the environment and flags."""

from __future__ import annotations

from .fields import FIELDS, PROBE_FIELDS, Field
from .loader import load_settings
from .model import (
    LogSettings,
    ProbeSpec,
    ResyncSettings,
    ServerSettings,
    Settings,
    StartupSettings,
)

__all__ = [
    "FIELDS",
    "PROBE_FIELDS",
    "Field",
    "LogSettings",
    "ProbeSpec",
    "ResyncSettings",
    "ServerSettings",
    "Settings",
    "StartupSettings",
    "load_settings",
]
