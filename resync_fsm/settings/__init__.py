"""Settings: one table of fields, read from TOML, ``.env``, the environment and flags (DESIGN §3).

:func:`load_settings` reads every source and returns :class:`Settings` or raises
:class:`~resync_fsm.errors.ConfigurationValidationError` (exit 78) listing every
problem; :data:`SECTIONS` names the sections in order, :data:`FIELDS` and
:data:`PROBE_FIELDS` are the table everything else is generated from.
"""

from __future__ import annotations

from .fields import FIELDS, PROBE_FIELDS, SECTIONS, Field
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
    "SECTIONS",
    "Field",
    "LogSettings",
    "ProbeSpec",
    "ResyncSettings",
    "ServerSettings",
    "Settings",
    "StartupSettings",
    "load_settings",
]
