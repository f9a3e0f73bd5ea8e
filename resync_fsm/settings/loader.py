"""Loading settings from every source and validating them, all problems reported at once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigurationValidationError
from ..redaction import redact_url, register_secret, scrub, scrub_data
from . import activation, auto, kubernetes
from . import parsers as p
from .fields import FIELDS, PROBE_FIELDS, SECTIONS, Field, field
from .model import Parsed, ProbeSpec, ResyncSettings, Settings, field_error, section_class, server_conflicts
from .resync import lone_service_links, resync_probes, security_problems
from .sources import Raw, Sources, blank, config_path, read_dotenv, read_toml
from .tls import tls_problems, tls_warnings

__all__ = ["load_settings"]

_RANK = {"default": 0, "toml": 1, ".env": 2, "env": 3, "flag": 4}
_PROBE_URL_SCHEMES = {
    "http": ("http", "https"),
    "redis": ("redis", "rediss"),
    "postgres": ("postgres", "postgresql"),
}


def load_settings(
    *,
    flags: Mapping[str, Any] | None = None,
    config: str | os.PathLike[str] | None = None,
    env_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Read every source, validate, and return :class:`Settings` (DESIGN §3).

    ``flags`` maps a field path (``"server.drain_delay"``) to its command-line
    value as argparse gives it (a list for ``--bind``, the const for a
    store_const flag). ``config`` is the TOML file (else ``$RESYNC_FSM_CONFIG``,
    else ``cwd/resync_fsm.toml`` if present), ``env_file`` a ``.env`` file,
    ``environ`` the environment (default ``os.environ``). Precedence, lowest
    first: defaults < TOML < ``.env`` < environment < flags.

    Raises :class:`ConfigurationValidationError` (exit 78) listing every
    problem, each naming the key, variable or flag and what was expected; its
    message lists the first 20 (``details["problem_count"]`` counts them all)
    and no secret appears in it (issue 13). A value overridden by a
    higher-precedence one is never a problem: if invalid, it is an
    ``"ignored: …"`` line in :meth:`Settings.warnings`.
    """
    src = Sources(environ=os.environ if environ is None else environ, flags=flags or {})
    path, explicit = config_path(str(config) if config else None, src.environ, cwd or Path.cwd())
    if path is not None:
        read_toml(path, explicit, src)
    if env_file:
        read_dotenv(Path(env_file), src)

    problems = src.problems

    def problem(name: str, message: str) -> None:
        problems.append((name, message))

    notes: list[str] = []
    given = {spec.path: src.candidates(spec) for spec in FIELDS}
    picked = {spec.path: (found[0] if found else Raw(spec.default, "default", spec.path))
              for spec, found in zip(FIELDS, given.values(), strict=True)}
    overridden = _overridden(picked)
    values: dict[str, Any] = {}
    for spec in FIELDS:
        raw, winner = picked[spec.path], overridden.get(spec.path)
        report = problem if winner is None else _ignored(notes, winner)
        ok, value = _parse(spec, raw, report)
        values[spec.path] = value if ok else spec.default
        for loser in given[spec.path][1:]:  # shadowed: invalid is only worth a warning
            _parse(spec, loser, _ignored(notes, raw.name))

    def name_given(path: str) -> str:
        raw = picked[path]
        return raw.name if raw.source != "default" else path

    chosen = auto.resolve(values, {path for path, raw in picked.items() if raw.source != "default"})
    for paths, message in server_conflicts(values):
        problem(", ".join(picked[path].name for path in paths), message)
        values.update((path, field(path).default) for path in paths)
    for tls_key, message in tls_problems(values):
        problem(name_given(tls_key), message)
        values.update((key, field(key).default) for key in values if key.startswith("tls."))
    notes += [f"{name_given(key)}: {message}" for key, message in tls_warnings(values)]
    notes += lone_service_links(values, picked)
    _resync_bind(values, picked)
    activation.default_bind(values, picked, src.environ)
    kubernetes.default_grace(values, picked, src.environ)
    sections = {
        name: section_class(name)(
            **{k.split(".", 1)[1]: Parsed(v) for k, v in values.items() if k.startswith(name + ".")}
        )
        for name in SECTIONS
    }

    def name_of(path: str) -> str:
        raw = picked[path]
        return raw.name if raw.source != "default" else _canonical_name(path)

    resync: ResyncSettings = sections["resync"]
    probes = _toml_probes(src.toml.get("probes"), problem)
    probes += resync_probes(resync, name_of, problem)
    security_problems(resync, name_of, problem, lambda name, message: notes.append(f"{name}: {message}"))
    _unique_names(probes, problem)

    if problems:
        raise _error(problems, src)
    return Settings(
        probes=tuple(probes),
        sources={path: chosen.get(path) or _origin(raw, src) for path, raw in picked.items()},
        notes=tuple(scrub(note) for note in notes),
        **sections,
    )


def _overridden(picked: dict[str, Raw]) -> dict[str, str]:
    """Fields whose value a higher-precedence setting makes irrelevant -> the name of that setting.

    Resync's SERVER_HOST and SERVER_PORT only build ``server.bind`` when it is
    not given at a higher or equal precedence (see :func:`_resync_bind`).
    """
    bind, host, port = picked["server.bind"], picked["resync.server_host"], picked["resync.server_port"]
    if bind.source != "default" and _RANK[bind.source] >= max(_RANK[host.source], _RANK[port.source]):
        return {"resync.server_host": bind.name, "resync.server_port": bind.name}
    return {}


def _ignored(notes: list[str], winner: str) -> Any:
    """A problem reporter that turns a problem into an "ignored" warning: the value was overridden."""

    def note(name: str, message: str) -> None:
        notes.append(f"ignored: {name}: {message}; overridden by {winner}")

    return note


def _parse(spec: Field, raw: Raw, problem: Any, label: str | None = None) -> tuple[bool, Any]:
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


def _canonical_name(path: str) -> str:
    spec = next(f for f in FIELDS if f.path == path)
    return spec.resync_env[0] if spec.resync_env and not spec.own_env else spec.path


def _resync_bind(values: dict[str, Any], picked: dict[str, Raw]) -> None:
    """Resync's SERVER_HOST/SERVER_PORT make one bind address, by the usual precedence."""
    host_raw, port_raw = picked["resync.server_host"], picked["resync.server_port"]
    rank = max(_RANK[host_raw.source], _RANK[port_raw.source])
    if rank == 0 or rank <= _RANK[picked["server.bind"].source]:
        return
    host = values["resync.server_host"] or "127.0.0.1"
    port = values["resync.server_port"] if values["resync.server_port"] is not None else 8000
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    values["server.bind"] = (f"{host}:{port}",)
    names = ",".join(r.name for r in (host_raw, port_raw) if r.source != "default")
    source = max(host_raw, port_raw, key=lambda r: _RANK[r.source]).source
    picked["server.bind"] = Raw(values["server.bind"], source, names)


def _toml_probes(tables: Any, problem: Any) -> list[ProbeSpec]:
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
            good, value = _parse(spec, raw, problem, f"{raw.name}" + label[len(f"probes[{i}]"):])
            ok &= good
            values[spec.key] = value
        if ok and _probe_shape(i, values, problem):
            probes.append(ProbeSpec(**{key: Parsed(value) for key, value in values.items()}))
    return probes


def _probe_shape(i: int, values: dict[str, Any], problem: Any) -> bool:
    """The keys each kind needs: tcp host+port; http/redis a URL; postgres either."""
    kind, where = values["kind"], f"probes[{i}]"
    if kind in _PROBE_URL_SCHEMES and "url" in values:
        try:
            p.url(*_PROBE_URL_SCHEMES[kind])(values["url"])
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


def _unique_names(probes: list[ProbeSpec], problem: Any) -> None:
    seen: set[str] = set()
    for probe in probes:
        if probe.name in seen:
            problem(f"probe {probe.name!r}", "defined twice; probe names must be unique "
                    "(Resync's REDIS_URL, TWS_HOST and LLM_ENDPOINT define redis, tws and llm)")
        seen.add(probe.name)


def _origin(raw: Raw, src: Sources) -> str:
    if raw.source == "toml":
        return f"{src.toml_path} [{raw.name}]"
    if raw.source == ".env":
        return f"{src.dotenv_path} ({raw.name})"
    if raw.source in ("env", "flag"):
        return f"{raw.source} {raw.name}"
    return "default"


MAX_REPORTED = 20  # problems listed in the message and details; the rest are counted


def _error(problems: list[tuple[str, str]], src: Sources) -> ConfigurationValidationError:
    """One error for every problem, secrets scrubbed, the first :data:`MAX_REPORTED` listed."""
    listed = [{"field": scrub(name), "problem": scrub(message)} for name, message in problems[:MAX_REPORTED]]
    count = f"{len(problems)} configuration problem{'s' if len(problems) != 1 else ''}"
    text = "; ".join(f"{item['field']}: {item['problem']}" for item in listed)
    if len(problems) > MAX_REPORTED:
        text += f"; … and {len(problems) - MAX_REPORTED} more"
    details: dict[str, Any] = {"problems": listed, "problem_count": len(problems)}
    if src.toml_path:
        details["config_file"] = src.toml_path
    return ConfigurationValidationError(f"{count}: {text}", scrub_data(details))
