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
