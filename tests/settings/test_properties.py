"""Property: any environment and any TOML give valid settings or a ConfigurationValidationError,
and no value marked secret ever appears in the error's message or details (or in a dump)."""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.redaction import forget_secrets
from resync_fsm.settings import FIELDS, load_settings

SECRET_FIELDS = [f for f in FIELDS if f.secret]
URL_FIELDS = [f for f in FIELDS if f.url]
ENV_NAMES = sorted({n for f in FIELDS for n in f.env_names} | {"RESYNC_FSM_CONFIG_X", "UNRELATED"})

# Secrets are long and distinctive, so that "appears in the output" means a leak, not a coincidence.
secrets = st.text(alphabet=string.ascii_letters + string.digits + "!#$%&*+-.:;<=>?@^_|~/ ", min_size=6,
                  max_size=24).flatmap(
    # sometimes with a NUL, which no setting accepts: the failure path must not echo it either
    lambda s: st.sampled_from(["Sx9" + s + "Qz", "Sx9" + s + "\x00Qz"]))
anything = st.one_of(st.text(max_size=30), st.sampled_from(["", "0", "1", "true", "-1", "1e9", "nan", "70000",
                                                            "redis://h:1/0", "http://h/", "production"]))
toml_scalar = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                        st.booleans(), st.text(max_size=20))
toml_value = st.one_of(toml_scalar, st.lists(toml_scalar, max_size=3))


def url_with_secret(scheme: str, secret: str, host: str) -> str:
    from urllib.parse import quote

    return f"{scheme}://user:{quote(secret, safe='')}@{host}/0"


def toml_literal(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


@st.composite
def inputs(draw: st.DrawFn) -> tuple[dict[str, str], str, list[str]]:
    planted: list[str] = []
    environ: dict[str, str] = {}
    for name in draw(st.lists(st.sampled_from(ENV_NAMES), max_size=8, unique=True)):
        environ[name] = draw(anything)
    for spec in draw(st.lists(st.sampled_from(SECRET_FIELDS), max_size=4, unique=True)):
        secret = draw(secrets)
        environ[draw(st.sampled_from(spec.env_names))] = secret
        planted.append(secret)
    for spec in draw(st.lists(st.sampled_from(URL_FIELDS), max_size=2, unique=True)):
        secret = draw(secrets)
        scheme = draw(st.sampled_from(["redis", "rediss", "http", "https", "ftp"]))
        environ[draw(st.sampled_from(spec.env_names))] = url_with_secret(scheme, secret, draw(
            st.sampled_from(["h", "h:1", "h:99999", "h:x", ""])))
        planted.append(secret)
    # A TOML document: known and unknown keys, arbitrary values, a probe with a secret URL.
    lines: list[str] = []
    sections = draw(st.lists(st.sampled_from(["server", "startup", "log", "resync", "nope"]), max_size=3, unique=True))
    for section in sections:
        lines.append(f"[{section}]")
        keys = [f.key for f in FIELDS if f.section == section] + ["typo"]
        for key in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
            spec = next((f for f in FIELDS if f.section == section and f.key == key), None)
            if spec is not None and spec.secret:
                secret = draw(secrets)
                planted.append(secret)
                lines.append(f"{key} = {toml_literal(secret)}")
            else:
                lines.append(f"{key} = {toml_literal(draw(toml_value))}")
    if draw(st.booleans()):
        secret = draw(secrets)
        planted.append(secret)
        kind = draw(st.sampled_from(["tcp", "http", "redis", "postgres", "bogus"]))
        scheme = draw(st.sampled_from(["http", "redis", "postgresql", "x"]))
        lines += ["[[probes]]", f"name = {toml_literal(draw(st.text(max_size=8)))}", f"kind = {toml_literal(kind)}",
                  f"url = {toml_literal(url_with_secret(scheme, secret, 'h'))}",
                  f"port = {toml_literal(draw(toml_value))}"]
    if draw(st.booleans()):
        lines.append(draw(st.text(max_size=20)))  # maybe garbage: a syntax error
    return environ, "\n".join(lines) + "\n", planted


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs())
def test_any_input_gives_settings_or_a_clean_error(case: tuple[dict[str, str], str, list[str]]) -> None:
    environ, toml, planted = case
    forget_secrets()  # each example must protect its own secrets
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        path.write_text(toml, encoding="utf-8")
        try:
            result = load_settings(environ=environ, config=path, cwd=Path(tmp))
        except ConfigurationValidationError as exc:
            outputs = [str(exc), exc.one_line(), json.dumps(exc.details, default=str), repr(exc.details)]
        else:
            outputs = [json.dumps(result.redacted()), repr(result)]
    for secret in planted:
        # a rendering may escape the NUL (repr), so look for the part before it too
        for piece in {secret, secret.split("\x00")[0]}:
            for output in outputs:
                assert piece not in output, (secret, output)


# ---- issue 13: one property per kind of real-world fault ---------------------------------------------------------

PRINTABLE = string.printable  # every reserved character, whitespace included
unencoded_secrets = st.text(alphabet=PRINTABLE, min_size=1, max_size=20).map(lambda s: "Sx9" + s + "Qz")


def dotenv_quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_any(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_any(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_any(v) for v in value) + "]"
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    return toml_literal(value)


toml_shaped = st.recursive(
    st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(), st.booleans(), st.text(max_size=12),
              st.sampled_from(["²", "١٠", "１０", "1_0", "1e300", "0x10", "tcp://10.0.0.7:8000", "/a?b", ":²"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=2)),
    max_leaves=8,
)


def all_outputs(load: Any) -> list[str]:
    try:
        result = load()
    except ConfigurationValidationError as exc:
        return [str(exc), exc.one_line(), json.dumps(exc.details, default=str), repr(exc.details)]
    return [json.dumps(result.redacted()), repr(result), *result.warnings()]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=unencoded_secrets, where=st.sampled_from(["REDIS_URL", "APP_LLM_ENDPOINT", "probe", ".env"]),
       user=st.sampled_from(["", "user"]), port=st.sampled_from(["6379", "x", "99999"]))
def test_unencoded_url_passwords_never_leak(secret: str, where: str, user: str, port: str) -> None:
    """Item 1: a password with any reserved character, unencoded, never reaches an output."""
    forget_secrets()
    scheme = "https" if "LLM" in where else "redis"
    url = f"{scheme}://{user}:{secret}@host:{port}/0"
    with tempfile.TemporaryDirectory() as tmp:
        config, env_file = Path(tmp) / "c.toml", Path(tmp) / ".env"
        config.write_text(f'[[probes]]\nname = "p"\nkind = "redis"\nurl = {json.dumps(url)}\n' if where == "probe"
                          else "", encoding="utf-8")
        env_file.write_text(f"REDIS_URL={dotenv_quoted(url)}\n" if where == ".env" else "", encoding="utf-8")
        environ = {where: url} if where.isupper() else {}
        outputs = all_outputs(lambda: load_settings(environ=environ, config=config, env_file=env_file, cwd=Path(tmp)))
    for output in outputs:
        assert secret not in output, (secret, output)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.sampled_from(FIELDS), value=st.one_of(st.text(), toml_shaped), via=st.sampled_from(["env", "toml"]))
def test_any_value_for_any_field_is_a_value_or_a_78(spec: Any, value: Any, via: str) -> None:
    """Item 6 (and 5): arbitrary text or TOML-shaped values never raise anything but the 78."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "c.toml"
        environ: dict[str, str] = {}
        if via == "env" and isinstance(value, str) and "\x00" not in value and spec.env_names:
            environ[spec.env_names[0]] = value
            config.write_text("", encoding="utf-8")
        else:
            config.write_text(f"[{spec.section}]\n{spec.key} = {toml_any(value)}\n", encoding="utf-8")
        try:
            load_settings(environ=environ, config=config, cwd=Path(tmp))
        except ConfigurationValidationError as exc:
            assert exc.exit_code == 78
    # constructing the model directly: the value, or a ValueError naming the field
    from resync_fsm.settings.model import section_class

    try:
        section_class(spec.section)(**{spec.key: value})
    except ValueError as exc:
        assert str(exc).startswith(spec.path), exc


@settings(max_examples=200, deadline=None)
@given(digits=st.text(alphabet=st.characters(categories=["Nd", "No"]), min_size=1, max_size=4),
       spec=st.sampled_from([f for f in FIELDS if f.key.endswith(("timeout", "delay", "interval", "port", "grace"))]))
def test_only_ascii_decimal_numbers_are_accepted(digits: str, spec: Any) -> None:
    """Item 5: Unicode digits ('²', '١٠', '１０') are refused however int() or float() would read them."""
    name = spec.env_names[0]
    try:
        load_settings(environ={name: digits}, cwd=Path("/nonexistent-dir"))
    except ConfigurationValidationError as exc:
        rejected = any(p["field"] == name for p in exc.details["problems"])
    else:
        rejected = False
    assert rejected or digits.isascii(), digits


@settings(max_examples=150, deadline=None)
@given(bad=st.text(max_size=12), field=st.sampled_from([f for f in FIELDS if f.resync_env or f.own_env]),
       rank=st.integers(0, 2))
def test_a_shadowed_value_never_fails(bad: str, field: Any, rank: int) -> None:
    """Item 3: a value that a higher-precedence name overrides is at most a warning."""
    names = field.env_names
    if len(names) < 2 or "\x00" in bad:
        return
    good = str(field.default).lower() if field.default is not None and not isinstance(field.default, tuple) else None
    if good is None:
        return
    loser = names[min(rank + 1, len(names) - 1)]
    environ = {names[0]: good, loser: bad}
    settings_ = load_settings(environ=environ, cwd=Path("/nonexistent-dir"))
    assert getattr(getattr(settings_, field.section), field.key) == field.default
    assert all(w.startswith("ignored: ") or "exceeds" in w for w in settings_.warnings())


@settings(max_examples=100, deadline=None)
@given(bind=st.text(max_size=10), port=st.text(max_size=10))
def test_server_host_and_port_under_a_bind_never_fail(bind: str, port: str) -> None:
    """Item 3: SERVER_HOST/SERVER_PORT are irrelevant when server.bind is given at higher precedence."""
    if "\x00" in bind + port:
        return
    result = load_settings(environ={"SERVER_HOST": bind, "SERVER_PORT": port}, flags={"server.bind": ["h:1"]},
                           cwd=Path("/nonexistent-dir"))
    assert result.server.bind == ("h:1",)


@settings(max_examples=150, deadline=None)
@given(paths=st.lists(st.text(alphabet="/ab?# \t\x01é", min_size=1, max_size=5), min_size=3, max_size=3))
def test_health_paths_are_distinct_plain_paths(paths: list[str]) -> None:
    """Item 2: accepted health paths are distinct and hold no query, fragment, space or control character."""
    names = ["RESYNC_FSM_SERVER_LIVEZ_PATH", "RESYNC_FSM_SERVER_READYZ_PATH", "RESYNC_FSM_SERVER_STATUS_PATH"]
    try:
        server = load_settings(environ=dict(zip(names, paths, strict=True)), cwd=Path("/nonexistent-dir")).server
    except ConfigurationValidationError as exc:
        assert exc.exit_code == 78
        return
    got = [server.livez_path, server.readyz_path, server.status_path]
    assert got == paths and len(set(got)) == 3
    assert not any(c in p for p in got for c in "?# \t\x01é")


@settings(max_examples=100, deadline=None)
@given(values=st.dictionaries(st.from_regex(r"[A-Z][A-Z0-9_]{0,8}", fullmatch=True),
                              st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                                      max_size=12), max_size=5),
       bom=st.booleans())
def test_dotenv_values_round_trip(values: dict[str, str], bom: bool) -> None:
    """Item 4: a .env written with double quotes reads back exactly (no interpolation, no comment text)."""
    from resync_fsm.settings.sources import Sources, read_dotenv

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ".env"
        text = "".join(f"{k}={dotenv_quoted(v)} # note\n" for k, v in values.items())
        path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
        src = Sources(environ={}, flags={})
        read_dotenv(path, src)
    assert src.problems == [] and src.dotenv == values


@settings(max_examples=30, deadline=None)
@given(count=st.integers(0, 300))
def test_error_reports_are_capped(count: int) -> None:
    """Item 7: however many problems, the message lists 20 and counts the rest."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "c.toml"
        config.write_text("[server]\nshutdown_timeout = 0\n" + "".join(f"k{i} = 1\n" for i in range(count)))
        try:
            load_settings(environ={}, config=config, cwd=Path(tmp))
        except ConfigurationValidationError as exc:
            assert exc.details["problem_count"] == count + 1 and len(exc.details["problems"]) == min(count + 1, 20)
            assert str(exc).count("unknown key") <= 20
            assert ("more" in str(exc)) == (count + 1 > 20)
        else:
            raise AssertionError("shutdown_timeout = 0 must be refused (item 8)")
