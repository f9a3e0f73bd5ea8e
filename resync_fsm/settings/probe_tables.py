"""The ``[[probes]]`` tables of the TOML file: each parsed, checked for the keys its kind needs, names unique."""

from __future__ import annotations

from typing import Any

from ..redaction import redact_url
from . import parsers as p
from .fields import PROBE_FIELDS
from .model import Parsed, ProbeSpec
from .sources import Raw, blank
from .values import parse_raw

__all__ = ["toml_probes", "unique_names"]

PROBE_URL_SCHEMES = {
    "http": ("http", "https"),
    "redis": ("redis", "rediss"),
    "postgres": ("postgres", "postgresql"),
}


def toml_probes(tables: Any, problem: Any) -> list[ProbeSpec]:
    """Every well-formed ``[[probes]]`` table as a :class:`ProbeSpec`; ``problem(name, message)`` for the rest."""
    if not isinstance(tables, list):
        return []
    probes = []
    for i, table in enumerate(tables):
        if not isinstance(table, dict):
            continue
        label = f"probes[{i}]" + (f" ({table['name']})" if isinstance(table.get("name"), str) else "")
        values: dict[str, Any] = {}
        ok = True
        for spec in PROBE_FIELDS:
            if spec.key not in table or blank(spec, table[spec.key]):
                if spec.required:
                    problem(f"probes[{i}].{spec.key}", "required")
                    ok = False
                continue
            raw = Raw(table[spec.key], "toml", f"probes[{i}].{spec.key}")
            good, value = parse_raw(spec, raw, problem, f"{raw.name}" + label[len(f"probes[{i}]"):])
            ok &= good
            values[spec.key] = value
        if ok and _probe_shape(i, values, problem):
            probes.append(ProbeSpec(**{key: Parsed(value) for key, value in values.items()}))
    return probes


def _probe_shape(i: int, values: dict[str, Any], problem: Any) -> bool:
    """The keys each kind needs: tcp host+port; http/redis a URL; postgres either."""
    kind, where = values["kind"], f"probes[{i}]"
    if kind in PROBE_URL_SCHEMES and "url" in values:
        try:
            p.url(*PROBE_URL_SCHEMES[kind])(values["url"])
        except p.Invalid as exc:
            problem(f"{where}.url", f"expected {exc.expected} for a {kind} probe, got {redact_url(values['url'])!r}")
            return False
        return True
    if kind in ("tcp", "postgres"):
        missing = [k for k in ("host", "port") if k not in values]
        for key in missing:
            problem(f"{where}.{key}", f"required for a {kind} probe" + (" (or url)" if kind == "postgres" else ""))
        return not missing
    problem(f"{where}.url", f"required for a {kind} probe")
    return False


def unique_names(probes: list[ProbeSpec], problem: Any) -> None:
    """A problem for each probe name given twice (Resync's variables define redis, tws and llm)."""
    seen: set[str] = set()
    for probe in probes:
        if probe.name in seen:
            problem(f"probe {probe.name!r}", "defined twice; probe names must be unique "
                    "(Resync's REDIS_URL, TWS_HOST and LLM_ENDPOINT define redis, tws and llm)")
        seen.add(probe.name)
