"""Reading raw values from each source, remembering where each came from.

Precedence, lowest first: defaults < TOML file < ``.env`` file < environment
< flags. A ``.env`` value never overrides the real environment.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .fields import FIELDS, PROBE_FIELDS, Field

__all__ = ["Raw", "Sources", "config_path", "read_dotenv", "read_toml"]

DEFAULT_CONFIG = "resync_fsm.toml"
CONFIG_ENV = "RESYNC_FSM_CONFIG"


@attrs.frozen
class Raw:
    """One raw value and its source: where a problem with it is reported."""

    value: Any
    source: str  # "default", "toml", ".env", "env", "flag"
    name: str  # the key, variable or flag to name in a message: "server.drain_delay"


@attrs.define
class Sources:
    """Every raw input of one load, and the problems found while reading them."""

    environ: Mapping[str, str]
    flags: Mapping[str, Any]  # field path -> value given on the command line
    toml: dict[str, Any] = attrs.field(factory=dict)
    toml_path: str | None = None
    dotenv: dict[str, str] = attrs.field(factory=dict)
    dotenv_path: str | None = None
    problems: list[tuple[str, str]] = attrs.field(factory=list)

    def env(self) -> dict[str, tuple[str, str]]:
        """name -> (value, source): the real environment over the ``.env`` file."""
        merged = {k: (v, ".env") for k, v in self.dotenv.items()}
        merged.update((k, (v, "env")) for k, v in self.environ.items())
        return merged

    def pick(self, spec: Field) -> Raw:
        """The highest-precedence raw value for a field."""
        if spec.path in self.flags and self.flags[spec.path] is not None:
            return Raw(self.flags[spec.path], "flag", spec.flag or spec.path)
        env = self.env()
        for name in spec.env_names:
            if name in env:
                value, source = env[name]
                return Raw(value, source, name)
        section = self.toml.get(spec.section)
        if isinstance(section, dict) and spec.key in section:
            return Raw(section[spec.key], "toml", spec.path)
        return Raw(spec.default, "default", spec.path)


def config_path(flag: str | None, environ: Mapping[str, str], cwd: Path) -> tuple[Path | None, bool]:
    """The TOML file to read, and whether it was asked for explicitly (so must exist)."""
    if flag:
        return Path(flag), True
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV]), True
    found = cwd / DEFAULT_CONFIG
    return (found, False) if found.is_file() else (None, False)


def read_toml(path: Path, explicit: bool, sources: Sources) -> None:
    where = f"config file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            sources.problems.append((where, "not found; pass an existing file to --config"))
        return
    except (OSError, UnicodeDecodeError) as exc:
        sources.problems.append((where, f"cannot be read: {exc.__class__.__name__}"))
        return
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib names line and column ("(at line 3, column 9)") except at the very end.
        message = str(exc).replace("(at end of document)", f"(at the end, line {text.count(chr(10)) + 1})")
        sources.problems.append((where, f"is not valid TOML: {message}"))
        return
    sources.toml, sources.toml_path = data, str(path)
    _check_keys(data, sources)


def _check_keys(data: dict[str, Any], sources: Sources) -> None:
    """Unknown sections and keys are errors: a typo must not be silently ignored."""
    known: dict[str, set[str]] = {}
    for spec in FIELDS:
        known.setdefault(spec.section, set()).add(spec.key)
    probe_keys = {spec.key for spec in PROBE_FIELDS}
    for section, body in data.items():
        if section == "probes":
            if not isinstance(body, list) or not all(isinstance(t, dict) for t in body):
                sources.problems.append(("probes", "must be an array of tables: [[probes]]"))
                continue
            for i, table in enumerate(body):
                for key in table:
                    if key not in probe_keys:
                        sources.problems.append(
                            (f"probes[{i}].{key}", "unknown key; known: " + ", ".join(sorted(probe_keys)))
                        )
            continue
        if section not in known:
            sources.problems.append(
                (section, "unknown section; known: " + ", ".join(sorted([*known, "probes"])))
            )
            continue
        if not isinstance(body, dict):
            sources.problems.append((section, "must be a table: [" + section + "]"))
            continue
        for key in body:
            if key not in known[section]:
                sources.problems.append(
                    (f"{section}.{key}", "unknown key; known: " + ", ".join(sorted(known[section])))
                )


def read_dotenv(path: Path, sources: Sources) -> None:
    """``KEY=VALUE`` lines; ``export``, quotes and ``#`` comments as shells write them."""
    where = f"env file {path}"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        sources.problems.append((where, "not found; pass an existing file to --env-file"))
        return
    except (OSError, UnicodeDecodeError) as exc:
        sources.problems.append((where, f"cannot be read: {exc.__class__.__name__}"))
        return
    values: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.replace("_", "").isalnum():
            sources.problems.append((f"{where}, line {number}", "expected KEY=VALUE"))
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    sources.dotenv, sources.dotenv_path = values, str(path)

