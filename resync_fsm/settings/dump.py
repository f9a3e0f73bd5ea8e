"""``resync-fsm config``: the effective settings as TOML that ``--config`` reads back to the same settings.

Every value is written in the form its parser takes (a socket mode as ``"660"``, an owner as
``"uid:gid"``, statuses as ``["100-499"]``) and followed by where it came from. A secret, and a
URL holding a password, is never written: a comment says which variable to set instead (in the
environment or a ``.env`` file), so a dump of a configuration with secrets says where they go.
The probes Resync's variables imply (``REDIS_URL``, ``TWS_HOST``, ``LLM_ENDPOINT``) are not
written as ``[[probes]]``: the variables written in ``[resync]`` make them again.
"""

from __future__ import annotations

import json
from typing import Any

from ..redaction import redact_url
from .fields import FIELDS, PROBE_FIELDS, SECTIONS, Field
from .model import ProbeSpec, Settings
from .resync import resync_probes

__all__ = ["to_toml", "toml_value"]


def toml_value(value: Any) -> str:
    """A TOML value for a bool, int, float, string or list of them (JSON's spelling is TOML's, but DEL)."""
    return json.dumps(value).replace("\x7f", "\\u007f")


def _input_form(spec: Field, value: Any) -> Any:
    """``value`` as the field's parser takes it back."""
    if spec.path == "server.unix_socket_mode":
        return f"{value:03o}"
    if spec.path == "server.unix_socket_owner":
        return f"{value[0]}:{value[1]}"
    if spec.path == "probes.expect_status":
        return [low if low == high else f"{low}-{high}" for low, high in value]
    return list(value) if isinstance(value, tuple) else value


def _line(spec: Field, value: Any, origin: str) -> str:
    where = ("write it here" if spec.section == "probes"
             else f"set {spec.env_names[-1]} in the environment or a .env file")
    came = f" ({origin})" if origin else ""
    if spec.secret:
        return f"# {spec.key}: a secret, not shown{came}: {where}"
    if spec.url and redact_url(value) != value:
        shown = toml_value(redact_url(value))
        return f"# {spec.key} = {shown}: holds credentials (a password or token), not shown{came}: {where}"
    text = f"{spec.key} = {toml_value(_input_form(spec, value))}"
    if origin == "default":  # commented out: the default again when read back (and [] is no valid bind list)
        return f"# {text}  # default"
    return text + (f"  # {origin}" if origin else "")


def _probe(probe: ProbeSpec) -> list[str]:
    lines = ["[[probes]]"]
    for spec in PROBE_FIELDS:
        value = getattr(probe, spec.key)
        if value is not None:
            lines.append(_line(spec, value, "" if value != spec.default else "default"))
    return [*lines, ""]


def to_toml(settings: Settings) -> str:
    """The TOML text of ``settings`` (see the module): defaults as comments, unset values left out."""
    lines = ["# resync-fsm config: the effective settings; resync-fsm --config FILE reads this back", ""]
    for section in SECTIONS:
        lines.append(f"[{section}]")
        values = getattr(settings, section)
        for spec in FIELDS:
            value = getattr(values, spec.key) if spec.section == section else None
            if value is not None:
                lines.append(_line(spec, value, settings.sources.get(spec.path, "default")))
        lines.append("")
    implied = {probe.name for probe in resync_probes(settings.resync, lambda path: path, lambda *_: None)}
    for probe in settings.probes:
        if probe.name in implied:
            lines.append(f"# the {probe.name!r} probe comes from the [resync] settings above")
        else:
            lines.extend(_probe(probe))
    return "\n".join(lines).rstrip("\n") + "\n"
