"""Issue 22: a Uvicorn user's habits on the command line: APP, --host/--port/--uds/--fd, --help, config, check."""

from __future__ import annotations

import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resync_fsm.check import NO_PROBES
from resync_fsm.cli import build_parser, main
from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.flags import flag_settings
from resync_fsm.settings import FIELDS, load_settings
from resync_fsm.settings.dump import to_toml
from resync_fsm.settings.parsers import choices_of

NOWHERE = Path("/nonexistent-dir")


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("RESYNC_FSM_", "KUBERNETES_")):
            monkeypatch.delenv(name)


def flags(*argv: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    return flag_settings(build_parser("run").parse_args(["run", *argv]))


def test_the_app_is_the_first_positional_argument_as_in_uvicorn() -> None:
    assert flags("main:app")[0]["server.app"] == "main:app"
    assert flags("main:app", "--app", "main:app") == ({"server.app": "main:app"}, [])
    assert flags("main:app", "--app", "other:app")[1][0][0] == "APP, --app"


@pytest.mark.parametrize(("argv", "bind"), [
    (["--host", "0.0.0.0", "--port", "9000"], ["0.0.0.0:9000"]),
    (["--port", "9000"], ["127.0.0.1:9000"]),  # Uvicorn's default host
    (["--host", "::1"], ["[::1]:8000"]),  # Uvicorn's default port
    (["--uds", "/run/app.sock"], ["unix:/run/app.sock"]),
    (["--fd", "3"], ["fd://3"]),
])
def test_uvicorns_address_flags_make_one_bind(argv: list[str], bind: list[str]) -> None:
    assert flags(*argv) == ({"server.bind": bind}, [])


@pytest.mark.parametrize("argv", [["--bind", "0.0.0.0:8000", "--port", "8000"],
                                  ["--uds", "/run/a.sock", "--fd", "3"],
                                  ["--bind", "unix:/run/a.sock", "--uds", "/run/a.sock"]])
def test_an_address_given_two_ways_is_a_78(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", *argv]) == 78
    err = capsys.readouterr().err
    assert "the address is given two ways: give every address with --bind" in err


def test_bind_colon_port_is_every_interface_as_hypercorn_binds_it() -> None:
    assert load_settings(flags={"server.bind": [":8000"]}, environ={}, cwd=NOWHERE).server.bind == ("0.0.0.0:8000",)


def test_bind_with_a_bare_port_is_a_78_that_says_what_to_write() -> None:
    with pytest.raises(ConfigurationValidationError) as caught:
        load_settings(flags={"server.bind": ["8000"]}, environ={}, cwd=NOWHERE)
    assert "'0.0.0.0:8000' (or ':8000')" in str(caught.value) and "--port 8000" in str(caught.value)


def test_top_level_help_shows_runs_options_grouped_and_typed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for text in ("--bind ADDRESS", "--host HOST", "--port INT", "--reload", "--reload-dir DIR",
                 "--graceful-timeout SECONDS", "--log-config FILE", "APP", "check", "config"):
        assert text in out, text
    choices = "{" + ",".join(choices_of(next(f for f in FIELDS if f.path == "server.loop").parse)) + "}"
    assert f"--loop {choices}" in out  # the field's own choices: they update themselves
    assert "VALUE" not in out
    assert re.search(r"^address .*:$", out, re.M) and re.search(r"^serving:$", out, re.M)


def test_reload_with_workers_is_a_78() -> None:
    with pytest.raises(ConfigurationValidationError, match="reload"):
        load_settings(flags={"server.reload": True, "server.workers": "2"}, environ={}, cwd=NOWHERE)


def test_kubernetes_assumes_its_default_grace_period_and_the_defaults_fit_it() -> None:
    k8s = load_settings(environ={"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, cwd=NOWHERE)
    assert k8s.server.termination_grace == 30.0 and k8s.warnings() == []
    slow = load_settings(environ={"KUBERNETES_SERVICE_HOST": "10.0.0.1", "RESYNC_FSM_SERVER_DRAIN_DELAY": "10"},
                         cwd=NOWHERE)
    assert any("Kubernetes' default, assumed" in w for w in slow.warnings())
    assert load_settings(environ={}, cwd=NOWHERE).server.termination_grace is None


def test_check_says_when_no_probe_is_configured(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    assert capsys.readouterr().out == NO_PROBES + "\n"


def test_check_labels_a_failing_non_critical_probe_and_shows_warnings(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[server]\ntermination_grace = 1\n[startup]\ntimeout = 0.5\n'
                      '[[probes]]\nname = "gone"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 1\ncritical = false\n')
    assert main(["check", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert "gone (tcp 127.0.0.1:1): fail" in out and "(non-critical: serving would go on" in out
    assert "warning: drain_delay + graceful_timeout + shutdown_timeout" in err


def test_the_root_logger_is_left_as_the_app_would_have_it_under_uvicorn() -> None:
    from resync_fsm.logs import configure_logging

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        root.setLevel(logging.WARNING)
        configure_logging("debug", "json")
        assert root.level == logging.WARNING and root.handlers == handlers
        assert logging.getLogger("hypercorn.error").handlers  # the engines' loggers are ours
        logging.getLogger("an.app.module").info("loaded", extra={"x": 1})  # a no-op, as under Uvicorn
    finally:
        root.setLevel(level)
        logging.lastResort = logging._StderrHandler(logging.WARNING)  # type: ignore[attr-defined]


def test_config_output_is_valid_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "in.toml"
    config.write_text('[server]\nbind = [":9000", "unix:/tmp/x.sock"]\nunix_socket_mode = "660"\n'
                      '[[probes]]\nname = "api"\nkind = "http"\nurl = "http://api/"\nexpect_status = "200-399"\n'
                      '[[probes]]\nname = "db"\nkind = "tcp"\nhost = "db"\nport = 5432\ncritical = false\n')
    assert main(["config", "--config", str(config), "--graceful-timeout", "7"]) == 0
    dumped = tmp_path / "out.toml"
    dumped.write_text(capsys.readouterr().out)
    first = load_settings(config=config, flags={"server.graceful_timeout": "7"}, environ={}, cwd=NOWHERE)
    assert load_settings(config=dumped, environ={}, cwd=NOWHERE) == first


def test_config_with_secrets_says_where_to_put_them(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "a-very-long-secret-value")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "a-very-long-secret" not in out
    assert "# admin_password: a secret, not shown (env ADMIN_PASSWORD): set ADMIN_PASSWORD" in out
    tomllib.loads(out)


# A property: whatever valid settings a TOML file gives, config writes them back the same.
_VALUES: dict[str, Any] = {
    "server.app": st.sampled_from(["main:app", "pkg.mod:make"]),
    "server.factory": st.booleans(),
    "server.bind": st.lists(st.sampled_from(["127.0.0.1:8000", ":9000", "[::1]:0", "localhost:7000"]),
                            min_size=1, max_size=3, unique=True),
    "server.workers": st.integers(1, 256),
    "server.graceful_timeout": st.floats(0, 86400),
    "server.drain_delay": st.floats(0, 86400),
    "server.termination_grace": st.floats(0, 86400),
    "server.root_path": st.sampled_from(["", "/api", "/a/b"]),
    "server.forwarded_allow_ips": st.lists(st.sampled_from(["10.0.0.0/8", "*", "::1"]), unique=True),
    "server.unix_socket_mode": st.integers(0, 0o777),
    "server.reload_includes": st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\x00,"),
                                               min_size=1), min_size=1),
    "server.expose_status": st.booleans(),
    "log.level": st.sampled_from(["debug", "warning"]),
    "resync.tws_host": st.sampled_from(["tws.internal", "10.1.2.3"]),
    "resync.tws_port": st.integers(1, 65535),
    "resync.admin_username": st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=3),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.fixed_dictionaries({}, optional=_VALUES),
       probes=st.lists(st.tuples(st.integers(1, 65535), st.booleans(), st.sampled_from(["<500", "200", "204-299"])),
                       max_size=3))
def test_config_round_trips_generated_settings(tmp_path: Path, chosen: dict[str, Any],
                                               probes: list[tuple[int, bool, str]]) -> None:
    tables: dict[str, dict[str, Any]] = {}
    for path, value in chosen.items():
        section, key = path.split(".")
        tables.setdefault(section, {})[key] = value
    text = "".join(f"[{name}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in body.items()) for name, body in
                   tables.items())
    text += "".join(f'[[probes]]\nname = "p{i}"\nkind = "http"\nurl = "http://h:{port}/"\ncritical = {_toml(crit)}\n'
                    f"expect_status = {_toml(status)}\n" for i, (port, crit, status) in enumerate(probes))
    source = tmp_path / "generated.toml"
    source.write_text(text)
    try:
        first = load_settings(config=source, environ={}, cwd=NOWHERE)
    except ConfigurationValidationError:
        return  # e.g. a generated bind list that listens twice: not valid input, nothing to round-trip
    dumped = tmp_path / "dumped.toml"
    dumped.write_text(to_toml(first))
    assert load_settings(config=dumped, environ={}, cwd=NOWHERE) == first


def _toml(value: Any) -> str:
    from resync_fsm.settings.dump import toml_value

    return toml_value(value)
