"""Loading settings from every source and validating them, all problems reported at once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigurationValidationError
from ..redaction import scrub, scrub_data
from . import activation, auto, kubernetes
from .fields import FIELDS, SECTIONS, field
from .model import Parsed, ProbeSpec, ResyncSettings, Settings, section_class, server_conflicts
from .probe_tables import toml_probes, unique_names
from .resync import lone_service_links, resync_probes, security_problems
from .sources import Raw, Sources, config_path, read_dotenv, read_toml
from .tls import tls_problems, tls_warnings
from .values import parse_raw

__all__ = ["load_settings"]

_RANK = {"default": 0, "toml": 1, ".env": 2, "env": 3, "flag": 4}
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
    load = _Load(src)
    chosen = load.cross_checks()
    sections = load.sections()
    probes = load.probes(sections["resync"])
    if src.problems:
        raise _error(src.problems, src)
    return Settings(
        probes=tuple(probes),
        sources={path: chosen.get(path) or _origin(raw, src) for path, raw in load.picked.items()},
        notes=tuple(scrub(note) for note in load.notes),
        **sections,
    )


class _Load:
    """One reading of every field from ``src``: each value picked by precedence and parsed; ``problems``
    (on ``src``) and ``notes`` (warnings) collected as :func:`load_settings` goes."""

    def __init__(self, src: Sources) -> None:
        self.src = src
        self.notes: list[str] = []
        given = {spec.path: src.candidates(spec) for spec in FIELDS}
        self.picked = {spec.path: (found[0] if found else Raw(spec.default, "default", spec.path))
                       for spec, found in zip(FIELDS, given.values(), strict=True)}
        overridden = _overridden(self.picked)
        self.values: dict[str, Any] = {}
        for spec in FIELDS:
            raw, winner = self.picked[spec.path], overridden.get(spec.path)
            report = self.problem if winner is None else _ignored(self.notes, winner)
            ok, value = parse_raw(spec, raw, report)
            self.values[spec.path] = value if ok else spec.default
            for loser in given[spec.path][1:]:  # shadowed: invalid is only worth a warning
                parse_raw(spec, loser, _ignored(self.notes, raw.name))

    def problem(self, name: str, message: str) -> None:
        """One problem with the setting spelt ``name`` (a key, a variable or a flag)."""
        self.src.problems.append((name, message))

    def name_given(self, path: str) -> str:
        """How the setting at ``path`` was given (its key, variable or flag), else its path."""
        raw = self.picked[path]
        return raw.name if raw.source != "default" else path

    def name_of(self, path: str) -> str:
        """How the setting at ``path`` was given, else its canonical environment name."""
        raw = self.picked[path]
        return raw.name if raw.source != "default" else _canonical_name(path)

    def cross_checks(self) -> dict[str, str]:
        """What one field alone cannot say: ``auto`` resolved (returned: path -> its source), conflicts
        between fields, TLS files, service links, the binds other settings imply, Kubernetes' grace."""
        values, picked = self.values, self.picked
        chosen = auto.resolve(values, {path for path, raw in picked.items() if raw.source != "default"})
        for paths, message in server_conflicts(values):
            self.problem(", ".join(picked[path].name for path in paths), message)
            values.update((path, field(path).default) for path in paths)
        for tls_key, message in tls_problems(values):
            self.problem(self.name_given(tls_key), message)
            values.update((key, field(key).default) for key in values if key.startswith("tls."))
        self.notes += [f"{self.name_given(key)}: {message}" for key, message in tls_warnings(values)]
        self.notes += lone_service_links(values, picked)
        _resync_bind(values, picked)
        activation.default_bind(values, picked, self.src.environ)
        kubernetes.default_grace(values, picked, self.src.environ)
        return chosen

    def sections(self) -> dict[str, Any]:
        """Each section's settings class, built from the parsed values."""
        return {
            name: section_class(name)(
                **{k.split(".", 1)[1]: Parsed(v) for k, v in self.values.items() if k.startswith(name + ".")}
            )
            for name in SECTIONS
        }

    def probes(self, resync: ResyncSettings) -> list[ProbeSpec]:
        """The ``[[probes]]`` tables and the probes Resync's variables imply; Resync's security rules."""
        probes = toml_probes(self.src.toml.get("probes"), self.problem)
        probes += resync_probes(resync, self.name_of, self.problem)
        security_problems(resync, self.name_of, self.problem,
                          lambda name, message: self.notes.append(f"{name}: {message}"))
        unique_names(probes, self.problem)
        return probes


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
