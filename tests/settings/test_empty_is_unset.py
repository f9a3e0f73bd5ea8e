"""Issue 24 item 10: an empty value of an optional setting counts as unset, in every source.

Every field of the table with no default (``None``: unset), given an empty or blank string in the
TOML file, the ``.env`` file (with or without a trailing comment), the environment or a flag, loads
as unset: no problem, no exit 78, and a lower-precedence value still applies.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.settings import FIELDS, PROBE_FIELDS, ServerSettings, load_settings

OPTIONAL = [f for f in FIELDS if f.default is None and not f.required]
SOURCES = ("toml", ".env", "env", "flag")
blanks = st.sampled_from(["", " ", "\t", "  \t "])


def given_in(source: str, name: str, path: str, value: str, directory: Path, comment: bool) -> dict[str, Any]:
    """``load_settings`` arguments giving ``value`` for the field at ``path`` (env ``name``) in ``source``."""
    section, key = path.split(".")
    if source == "toml":
        (directory / "c.toml").write_text(f"[{section}]\n{key} = {json.dumps(value)}\n")
        return {"config": directory / "c.toml"}
    if source == ".env":
        line = f"{name}={value}" if not value.strip("\t ") else f'{name}="{value}"'
        (directory / ".env").write_text(line + (" # set by the vault\n" if comment else "\n"))
        return {"env_file": directory / ".env"}
    if source == "env":
        return {"environ": {name: value}}
    return {"flags": {path: value}}


@given(spec=st.sampled_from(OPTIONAL), source=st.sampled_from(SOURCES), value=blanks, comment=st.booleans(),
       which=st.integers(0, 2))
def test_an_empty_optional_value_is_unset_in_every_source(spec: Any, source: str, value: str, comment: bool,
                                                          which: int) -> None:
    name = spec.env_names[which % len(spec.env_names)]
    with tempfile.TemporaryDirectory() as tmp:
        kwargs = {"environ": {}, "cwd": Path(tmp), **given_in(source, name, spec.path, value, Path(tmp), comment)}
        settings = load_settings(**kwargs)
    assert getattr(getattr(settings, spec.section), spec.key) is None
    assert settings.sources[spec.path] == "default"


def test_the_issues_dotenv_in_development(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ADMIN_PASSWORD= # comment\nSECRET_KEY=\nTWS_USER=\n")
    settings = load_settings(env_file=tmp_path / ".env", environ={}, cwd=tmp_path)
    assert settings.resync.admin_password is None and settings.resync.secret_key is None


def test_an_empty_value_lets_a_lower_precedence_one_apply(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('[resync]\ntws_host = "tws.internal"\n')
    settings = load_settings(config=tmp_path / "c.toml", environ={"TWS_HOST": "", "TWS_PORT": "31111"},
                             cwd=tmp_path)
    assert settings.resync.tws_host == "tws.internal" and settings.probes[0].target == "tws.internal:31111"


def test_empty_in_production_is_missing_not_malformed() -> None:
    with pytest.raises(ConfigurationValidationError) as info:
        load_settings(environ={"ENVIRONMENT": "production", "ADMIN_USERNAME": "operator", "ADMIN_PASSWORD": " ",
                               "SECRET_KEY": "k" * 40})
    assert "ADMIN_PASSWORD: required in production" in str(info.value)
    assert info.value.details["problem_count"] == 1


@pytest.mark.parametrize("spec", [f for f in PROBE_FIELDS if f.default is None and not f.required],
                         ids=lambda f: f.key)
def test_an_empty_optional_probe_key_is_unset(spec: Any, tmp_path: Path) -> None:
    table = {"name": "db", "kind": "postgres", "host": "db.internal", "port": 5432, "url": "postgresql://db/x"}
    table[spec.key] = ""
    body = "\n".join(f"{key} = {json.dumps(value)}" for key, value in table.items())
    (tmp_path / "c.toml").write_text(f"[[probes]]\n{body}\n")
    (probe,) = load_settings(config=tmp_path / "c.toml", environ={}, cwd=tmp_path).probes
    assert getattr(probe, spec.key) is None


def test_constructing_a_section_takes_empty_as_unset() -> None:
    assert ServerSettings(termination_grace="", limit_concurrency=" ").termination_grace is None
