"""Reading raw values from each source, remembering where each came from.

Precedence, lowest first: defaults < TOML file < ``.env`` file < environment
< flags. A ``.env`` value never overrides the real environment.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .fields import FIELDS, PROBE_FIELDS, Field

__all__ = ["MAX_FILE_BYTES", "Raw", "Sources", "blank", "config_path", "read_dotenv", "read_toml"]

DEFAULT_CONFIG = "resync_fsm.toml"
CONFIG_ENV = "RESYNC_FSM_CONFIG"
MAX_FILE_BYTES = 1 << 20  # 1 MiB: a config or .env file is a few KiB; more is a mistake or an attack


def blank(spec: Field, value: Any) -> bool:
    """Whether ``value`` is an empty (or blank) string given for an optional setting, one with no
    default: it counts as unset, in every source (``ADMIN_PASSWORD= # comment``, ``tws_host = ""``)."""
    return spec.default is None and not spec.required and isinstance(value, str) and not value.strip()


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

    def candidates(self, spec: Field) -> list[Raw]:
        """Every value given for a field, highest precedence first (the first one wins).

        Flag, then each environment name in :attr:`Field.env_names` order
        (``RESYNC_FSM_…`` over ``APP_X`` over ``X``), the real environment over
        the ``.env`` file for one name, then the TOML file. The losers matter
        only for a warning when they are invalid (issue 13). A :func:`blank` value is not given.
        """
        found: list[Raw] = []
        if spec.path in self.flags and self.flags[spec.path] is not None:
            found.append(Raw(self.flags[spec.path], "flag", spec.flag or spec.path))
        for name in spec.env_names:
            if name in self.environ:
                found.append(Raw(self.environ[name], "env", name))
            if name in self.dotenv:
                found.append(Raw(self.dotenv[name], ".env", name))
        section = self.toml.get(spec.section)
        if isinstance(section, dict) and spec.key in section:
            found.append(Raw(section[spec.key], "toml", spec.path))
        return [raw for raw in found if not blank(spec, raw.value)]

    def pick(self, spec: Field) -> Raw:
        """The highest-precedence raw value for a field (its default when none is given)."""
        found = self.candidates(spec)
        return found[0] if found else Raw(spec.default, "default", spec.path)


def config_path(flag: str | None, environ: Mapping[str, str], cwd: Path) -> tuple[Path | None, bool]:
    """The TOML file to read, and whether it was asked for explicitly (so must exist).

    ``--config`` first, then ``$RESYNC_FSM_CONFIG``, then ``cwd/resync_fsm.toml``
    only if it is a file (DESIGN §3). ``(None, False)`` when there is none.
    """
    if flag:
        return Path(flag), True
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV]), True
    found = cwd / DEFAULT_CONFIG
    return (found, False) if found.is_file() else (None, False)


def _read_capped(path: Path, where: str, missing: str | None, sources: Sources) -> str | None:
    """The file's text (UTF-8, a BOM dropped), or ``None`` with a problem recorded.

    Never more than :data:`MAX_FILE_BYTES` are read, whatever the file claims to be.
    ``missing`` is the problem for a file that does not exist (``None``: not one).
    """
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        if missing:
            sources.problems.append((where, missing))
        return None
    except OSError as exc:
        sources.problems.append((where, f"cannot be read: {exc.__class__.__name__}"))
        return None
    if len(data) > MAX_FILE_BYTES:
        sources.problems.append((where, f"is larger than {MAX_FILE_BYTES} bytes (1 MiB), the limit; not read"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        sources.problems.append((where, "cannot be read: not UTF-8"))
        return None


def read_toml(path: Path, explicit: bool, sources: Sources) -> None:
    """Read the TOML file (TOML 1.0, via :mod:`tomllib`) into ``sources.toml``.

    Problems — missing when ``explicit``, over 1 MiB, not UTF-8, not TOML
    (with line and column), nested too deeply, unknown sections or keys — go
    to ``sources.problems`` as ``(where, message)``; nothing is raised.
    """
    where = f"config file {path}"
    text = _read_capped(path, where, "not found; pass an existing file to --config" if explicit else None, sources)
    if text is None:
        return
    import tomllib  # only with a file to read: not on the way to ready without one (issue 25)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib names line and column ("(at line 3, column 9)") except at the very end.
        message = str(exc).replace("(at end of document)", f"(at the end, line {text.count(chr(10)) + 1})")
        sources.problems.append((where, f"is not valid TOML: {message}"))
        return
    except RecursionError:  # arrays or tables nested hundreds deep
        sources.problems.append((where, "is not valid TOML: nested too deeply"))
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
    """Read a ``.env`` file into ``sources.dotenv`` with python-dotenv's parser.

    ``export``, quotes and ``#`` comments as shells and python-dotenv write them
    (``KEY="v" # note`` is ``v``; ``KEY= # note`` is empty); no ``${VAR}``
    interpolation, so a secret holding ``$`` stays as written. A line that does
    not parse is a problem naming its line number, never echoing its text
    (it may hold a secret). The loader lets the real environment win.
    """
    where = f"env file {path}"
    text = _read_capped(path, where, "not found; pass an existing file to --env-file", sources)
    if text is None:
        return
    values: dict[str, str] = {}
    from dotenv.parser import parse_stream  # only with --env-file: python-dotenv costs ~10 ms to import

    for binding in parse_stream(io.StringIO(text)):
        if binding.error or (binding.key is not None and binding.value is None):
            # a binding's text starts with the blank lines before it: count them to name the line
            chunk = binding.original.string
            line = binding.original.line + chunk[: len(chunk) - len(chunk.lstrip())].count("\n")
            sources.problems.append((f"{where}, line {line}", "expected KEY=VALUE"))
        elif binding.key is not None and binding.value is not None:  # else a comment or blank line
            values[binding.key] = binding.value
    sources.dotenv, sources.dotenv_path = values, str(path)
