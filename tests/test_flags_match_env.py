"""Issue 12: every flag accepts what its environment variable accepts, and parses it the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from resync_fsm.settings import FIELDS, load_settings
from resync_fsm.settings.fields import Field

# A few valid values per flagged field, as a user types them (mixed case for choices).
SAMPLES: dict[str, list[str]] = {
    "server.app": ["resync_fsm.app:app", "my.pkg.main:make_app"],
    "server.bind": ["0.0.0.0:9000", "[::1]:8080", "unix:/run/app.sock", "localhost:0"],
    "server.loop": ["asyncio", "TRIO", "uvloop", " Asyncio "],
    "server.engine": ["hypercorn", "UVICORN", " Hypercorn "],
    "server.management_bind": ["127.0.0.1:9000", "unix:/run/app-management.sock", "[::]:0"],
    "server.expose_status": ["true", "False", "auto", "off"],
    "server.workers": ["1", "4", "256"],
    "server.max_requests": ["0", "1000"],
    "server.max_requests_jitter": ["0", "50"],
    "server.graceful_timeout": ["0", "7", "2.5", " 30 ", "86400"],
    "server.drain_delay": ["0", "1.25", "10"],
    "startup.timeout": ["0.5", "30", "600"],
    "log.level": ["DEBUG", "Info", "wArNiNg", "error", "CRITICAL"],
    "log.format": ["JSON", "Console", "auto"],
    "server.app_dir": [".", "/tmp", " / "],
    "server.reload_dirs": [".", "/tmp"],
    "server.reload_includes": ["*.py", "*.html"],
    "server.reload_excludes": [".*", "tests/*"],
    "log.config": [str(Path(__file__).parent / "logging.ini")],
    "server.lifespan": ["auto", "ON", "Off"],
    "server.startup_timeout": ["0.5", "60"],
    "server.forwarded_allow_ips": ["127.0.0.1", "10.0.0.0/8, ::1", "*", ""],
    "server.root_path": ["/api", "/api/", "", "/"],
    "server.keep_alive_timeout": ["5", "65", "0.5"],
    "server.backlog": ["1", "2048", "65535"],
    "server.limit_concurrency": ["1", "1000"],
    "server.max_header_size": ["1024", "16384", "1048576"],
    "server.max_body_size": ["1", "1048576", "10737418240"],
    "server.websocket_ping_interval": ["0", "20"],
    "server.ws_max_size": ["1", "4096", "16777216"],
    "tls.certfile": [__file__],
    "tls.keyfile": [__file__],
    "tls.ca_certs": [__file__],
    "tls.ciphers": ["ECDHE+AESGCM", "HIGH:!aNULL"],
    "tls.client_cert": ["none", "Optional", "REQUIRED"],
}
# TLS files only make sense together: checked as files here, as a pair in tests/e2e/test_tls.py
CROSS_CHECKED = {"tls.certfile", "tls.keyfile", "tls.ca_certs", "tls.client_cert"}
FLAGGED = [spec for spec in FIELDS if spec.flag]
BOOLEAN_FLAGS = [spec for spec in FLAGGED if isinstance(spec.default, bool)]
VALUE_FLAGS = [spec for spec in FLAGGED if spec not in BOOLEAN_FLAGS]
NOWHERE = Path("/nonexistent-dir")


def value_of(settings: Any, spec: Field) -> Any:
    return getattr(getattr(settings, spec.section), spec.key)


def test_every_value_flag_has_samples() -> None:
    assert sorted(SAMPLES) == sorted(spec.path for spec in VALUE_FLAGS)


@pytest.mark.parametrize(("spec", "raw"), [(spec, raw) for spec in VALUE_FLAGS for raw in SAMPLES[spec.path]],
                         ids=lambda x: x.path if isinstance(x, Field) else repr(x))
def test_flag_and_environment_parse_alike(spec: Field, raw: str) -> None:
    flag_value: Any = [raw] if spec.repeatable else raw  # argparse's action="append" gives a list
    if spec.path in CROSS_CHECKED:
        assert spec.parse(raw) == spec.parse(flag_value)
        return
    from_flag = load_settings(flags={spec.path: flag_value}, environ={}, cwd=NOWHERE)
    for name in spec.env_names:
        from_env = load_settings(environ={name: raw}, cwd=NOWHERE)
        assert value_of(from_flag, spec) == value_of(from_env, spec), name
    assert from_flag.sources[spec.path] == f"flag {spec.flag}"


@pytest.mark.parametrize("spec", BOOLEAN_FLAGS, ids=lambda spec: spec.path)
def test_boolean_flags_set_what_the_variable_would(spec: Field) -> None:
    const = not spec.flag_negative  # store_const: --factory sets True, --no-fail-fast sets False
    from_flag = load_settings(flags={spec.path: const}, environ={}, cwd=NOWHERE)
    from_env = load_settings(environ={spec.env_names[0]: "TRUE" if const else "False"}, cwd=NOWHERE)
    assert value_of(from_flag, spec) is const is value_of(from_env, spec)
