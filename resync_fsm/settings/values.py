"""One raw value (from any source) to its typed value: :func:`parse_raw`.

A secret is registered for redaction before it is parsed; a value that does
not parse is reported as a problem naming where it was given, never quoting a
secret (DESIGN §3).
"""

from __future__ import annotations

from typing import Any

from ..redaction import redact_url, register_secret
from .field_spec import Field
from .model import field_error
from .sources import Raw

__all__ = ["parse_raw"]


def parse_raw(spec: Field, raw: Raw, problem: Any, label: str | None = None) -> tuple[bool, Any]:
    """``(True, value)``, or ``(False, None)`` after ``problem(label or raw.name, message)``."""
    if raw.source == "default":
        return True, spec.default
    if spec.secret:
        register_secret(raw.value)
    if spec.url and isinstance(raw.value, str):
        redact_url(raw.value)  # registers the userinfo as a secret
    try:
        return True, spec.parse(raw.value)
    except Exception as exc:  # any parser failure is this field's problem, never a crash
        problem(label or raw.name, f"{field_error(exc)}{_got(spec, raw.value)}")
        return False, None


def _got(spec: Field, value: Any) -> str:
    if spec.secret:
        return " (value not shown)"
    shown = redact_url(value) if isinstance(value, str) else value  # any value may be a URL with a password
    text = repr(shown)
    return f", got {text[:60] + '…' if len(text) > 60 else text}"
