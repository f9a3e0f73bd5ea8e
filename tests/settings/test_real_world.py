"""Issue 13: configuration and secrets as they arrive from the real world, one kind of fault per test group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.redaction import forget_secrets, redact_url, scrub
from resync_fsm.settings import ResyncSettings, ServerSettings, Settings, load_settings
from resync_fsm.settings.sources import MAX_FILE_BYTES


def load(environ: dict[str, str] | None = None, **kw):  # type: ignore[no-untyped-def]
    return load_settings(environ=environ or {}, cwd=Path("/nonexistent-dir"), **kw)


def failure(environ: dict[str, str] | None = None, **kw) -> ConfigurationValidationError:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationValidationError) as info:
        load(environ, **kw)
    return info.value


def rendered(exc: ConfigurationValidationError) -> str:
    return "\n".join([str(exc), exc.one_line(), json.dumps(exc.details), repr(exc.details)])


# 1. Redaction fails closed -------------------------------------------------------------------------------------

UNENCODED = ["pa#ss", "pa/ss", "pa?ss", "pa@ss", "p#/?@w"]


@pytest.mark.parametrize("password", UNENCODED)
@pytest.mark.parametrize("name", ["REDIS_URL", "LLM_ENDPOINT"])
def test_unencoded_password_in_a_url_never_reaches_the_error(name: str, password: str) -> None:
    forget_secrets()
    scheme = "redis" if name == "REDIS_URL" else "https"
    secret = "Zq8" + password + "Xk"
    exc = failure({name: f"{scheme}://:{secret}@host:6379/0", "SERVER_PORT": "x"})
    for piece in (secret, secret.split("#")[0].split("/")[0].split("?")[0]):
        assert piece not in rendered(exc)


@pytest.mark.parametrize("password", UNENCODED)
def test_unencoded_password_in_a_probe_url_and_dotenv_never_reaches_the_error(tmp_path: Path, password: str) -> None:
    forget_secrets()
    secret = "Zq8" + password + "Xk"
    (tmp_path / "c.toml").write_text(f'[[probes]]\nname = "db"\nkind = "http"\nurl = "http://u:{secret}@h:x/"\n')
    (tmp_path / ".env").write_text(f"REDIS_URL=redis://:{secret}@host:99999/0\n")
    exc = failure(config=tmp_path / "c.toml", env_file=tmp_path / ".env")
    assert "Zq8" not in rendered(exc)


def test_redact_url_masks_to_the_last_at_and_registers_the_secret() -> None:
    forget_secrets()
    assert redact_url("redis://:pa#ss@host:6379/0") == "redis://***@host:6379/0"
    assert redact_url("redis://u:p/a?s@s@h/0") == "redis://***@h/0"
    assert scrub("the password pa#ss leaked") == "the password *** leaked"
    with pytest.raises(ValueError) as info:
        ResyncSettings(redis_url="redis://:Zq8p#ss@host:6379/0")
    assert "Zq8" not in str(info.value)
    settings = ResyncSettings(redis_url="redis://:Zq8p%23ss@host:6379/0", llm_endpoint="https://Zq8tok@h/")
    assert "Zq8" not in repr(settings) and "Zq8" not in json.dumps(Settings(resync=settings).redacted())


# 2. Health paths -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("env", [
    {"RESYNC_FSM_SERVER_LIVEZ_PATH": "/readyz"},
    {"RESYNC_FSM_SERVER_READYZ_PATH": "/h", "RESYNC_FSM_SERVER_STATUS_PATH": "/h"},
    {"RESYNC_FSM_SERVER_METRICS_PATH": "/status"},
])
def test_health_paths_must_differ(env: dict[str, str]) -> None:
    exc = failure(env)
    assert exc.exit_code == 78
    assert "must differ" in str(exc) and all(name in str(exc) for name in env)
    with pytest.raises(ValueError, match="livez_path and server.readyz_path"):
        ServerSettings(livez_path="/x", readyz_path="/x")


@pytest.mark.parametrize("path", ["/ready?x=1", "/ready#top", "/rea dy", "/ready\t", "/re\x01ady", "/réady"])
def test_health_paths_with_query_fragment_space_or_control_are_rejected(path: str) -> None:
    exc = failure({"RESYNC_FSM_SERVER_READYZ_PATH": path})
    assert exc.exit_code == 78 and "RESYNC_FSM_SERVER_READYZ_PATH" in str(exc)


# 3. Kubernetes service links and shadowed values -----------------------------------------------------------------

def test_kubernetes_service_link_ports_give_their_port() -> None:
    settings = load({"SERVER_PORT": "tcp://10.0.0.7:8000", "TWS_HOST": "tws", "TWS_PORT": "tcp://10.0.0.9:31111"})
    assert settings.resync.server_port == 8000 and settings.server.bind == ("127.0.0.1:8000",)
    assert settings.resync.tws_port == 31111


@pytest.mark.parametrize("winner", [
    {"flags": {"server.bind": ["0.0.0.0:9000"]}},
    {"environ": {"RESYNC_FSM_SERVER_BIND": "0.0.0.0:9000"}},
])
def test_server_host_and_port_overridden_by_bind_never_fail(winner: dict[str, object]) -> None:
    environ = {"SERVER_PORT": "not-a-port", "SERVER_HOST": "", **winner.get("environ", {})}  # type: ignore[dict-item]
    settings = load(environ, flags=winner.get("flags"))
    assert settings.server.bind == ("0.0.0.0:9000",)
    warnings = settings.warnings()
    assert any(w.startswith("ignored: SERVER_PORT:") and "overridden by" in w for w in warnings), warnings


def test_bind_in_toml_is_overridden_by_the_environment(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('[server]\nbind = ["0.0.0.0:9000"]\n')
    with pytest.raises(ConfigurationValidationError, match="SERVER_PORT"):
        load({"SERVER_PORT": "x"}, config=tmp_path / "c.toml")


def test_shadowed_invalid_variables_are_warnings_not_problems(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=DEBUG\nRESYNC_FSM_STARTUP_TIMEOUT=soon\n")
    settings = load({"APP_LOG_LEVEL": "warning", "LOG_LEVEL": "loud", "RESYNC_FSM_STARTUP_TIMEOUT": "5",
                     "RESYNC_FSM_LOG_LEVEL": "error"}, env_file=tmp_path / ".env")
    assert settings.log.level == "error" and settings.startup.timeout == 5.0
    warnings = "\n".join(settings.warnings())
    assert "ignored: LOG_LEVEL: expected one of" in warnings and "overridden by RESYNC_FSM_LOG_LEVEL" in warnings
    assert "ignored: RESYNC_FSM_STARTUP_TIMEOUT: expected" in warnings


# 4. .env parsed as python-dotenv parses it -----------------------------------------------------------------------

def test_dotenv_comments_bom_and_no_interpolation(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text('\ufeffLOG_LEVEL="debug" # the level\n# a comment\n\n'
                    "export TWS_HOST=tws\nTWS_PORT=1\nTWS_PASSWORD=a$HOME${HOME}b\n", encoding="utf-8")
    settings = load({"HOME": "/root"}, env_file=path)
    assert settings.log.level == "debug" and settings.resync.tws_host == "tws"
    assert settings.resync.tws_password == "a$HOME${HOME}b"


def test_dotenv_empty_value_is_not_the_comment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RESYNC_FSM_SERVER_APP= # set by vault\n")
    exc = failure(env_file=tmp_path / ".env")
    assert "set by vault" not in str(exc) and "RESYNC_FSM_SERVER_APP" in str(exc)


def test_dotenv_bad_line_is_named_by_number_and_not_echoed(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=info\n\nthis is hunter2 not a binding\n# fine\n\nbare_word\n")
    exc = failure(env_file=tmp_path / ".env")
    assert f"env file {tmp_path / '.env'}, line 3: expected KEY=VALUE" in str(exc)
    assert f"env file {tmp_path / '.env'}, line 6: expected KEY=VALUE" in str(exc)
    assert "hunter2" not in rendered(exc)


def test_dotenv_never_overrides_the_real_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=debug\n")
    assert load({"LOG_LEVEL": "error"}, env_file=tmp_path / ".env").log.level == "error"


# 5. Numbers are ASCII decimal and bounded ------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["١٠", "１０", "1_0", "1e3", "1e300", "inf", "nan", "-inf", "0x10", "²", "86401"])
def test_seconds_are_ascii_decimal_up_to_a_day(value: str) -> None:
    exc = failure({"RESYNC_FSM_SERVER_GRACEFUL_TIMEOUT": value})
    assert exc.exit_code == 78 and "a number of seconds from 0 to 86400" in str(exc)


@pytest.mark.parametrize("value", ["١٠", "１０", "1_0", "1e3", "0x10", "²", "8000.0"])  # " ": unset (issue 24)
def test_ports_are_ascii_decimal(value: str) -> None:
    exc = failure({"SERVER_PORT": value})
    assert exc.exit_code == 78 and "SERVER_PORT" in str(exc)


def test_toml_numbers_out_of_range_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text("[server]\ndrain_delay = inf\ngraceful_timeout = 1e300\n"
                                     "watch_interval = 100000\n[startup]\ntimeout = nan\n")
    exc = failure(config=tmp_path / "c.toml")
    assert exc.details["problem_count"] == 4
    assert load({"RESYNC_FSM_SERVER_DRAIN_DELAY": " 2.5 "}).server.drain_delay == 2.5


# 6. Every parser error is the field's 78, never a crash ----------------------------------------------------------

@pytest.mark.parametrize(("env", "name"), [
    ({"RESYNC_FSM_SERVER_BIND": ":²"}, "RESYNC_FSM_SERVER_BIND"),
    ({"RESYNC_FSM_SERVER_BIND": "h:١٠"}, "RESYNC_FSM_SERVER_BIND"),
])
def test_unicode_digits_in_a_bind_are_a_problem(env: dict[str, str], name: str) -> None:
    assert name in str(failure(env))


@pytest.mark.parametrize("status", ['"²"', '"<²00"', '"١٠٠-٢٠٠"', "[[200]]", '"200,²"', "[]"])
def test_bad_expect_status_is_a_problem(tmp_path: Path, status: str) -> None:
    (tmp_path / "c.toml").write_text(f'[[probes]]\nname = "a"\nkind = "http"\nurl = "http://h/"\n'
                                     f"expect_status = {status}\n")
    assert "probes[0].expect_status" in str(failure(config=tmp_path / "c.toml"))


@pytest.mark.parametrize("depth", [500, 5000])
def test_deeply_nested_toml_is_a_problem(tmp_path: Path, depth: int) -> None:
    (tmp_path / "c.toml").write_text("[[probes]]\nname = 'a'\nkind = 'http'\nurl = 'http://h/'\n"
                                     f"expect_status = {'[' * depth}200{']' * depth}\n")
    exc = failure(config=tmp_path / "c.toml")
    assert exc.exit_code == 78


def test_an_unexpected_parser_exception_names_the_field() -> None:
    from resync_fsm.settings.fields import field

    spec = field("server.drain_delay")
    original = spec.parse

    def broken(value: object) -> float:
        raise ZeroDivisionError

    object.__setattr__(spec, "parse", broken)  # a frozen Field: the table's parser, swapped for this test
    try:
        exc = failure({"RESYNC_FSM_SERVER_DRAIN_DELAY": "1"})
        assert "RESYNC_FSM_SERVER_DRAIN_DELAY: could not be parsed (ZeroDivisionError)" in str(exc)
        with pytest.raises(ValueError, match="server.drain_delay: could not be parsed"):
            ServerSettings(drain_delay="1")
    finally:
        object.__setattr__(spec, "parse", original)


# 7. Size caps ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["config", "env_file"])
def test_files_over_a_mebibyte_are_refused_unread(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "big"
    path.write_text("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    exc = failure(**{kind: path})
    assert f"{path}: is larger than {MAX_FILE_BYTES} bytes (1 MiB)" in str(exc)


def test_the_error_report_lists_twenty_problems_and_counts_the_rest(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text("[server]\n" + "".join(f"typo{i} = 1\n" for i in range(5000)))
    exc = failure(config=tmp_path / "c.toml")
    assert exc.details["problem_count"] == 5000 and len(exc.details["problems"]) == 20
    assert str(exc).endswith("… and 4980 more") and len(str(exc)) < 20_000


# 8. shutdown_timeout ---------------------------------------------------------------------------------------------

def test_shutdown_timeout_must_be_above_zero_graceful_timeout_may_be_zero() -> None:
    exc = failure({"RESYNC_FSM_SERVER_SHUTDOWN_TIMEOUT": "0"})
    assert "RESYNC_FSM_SERVER_SHUTDOWN_TIMEOUT: expected a number of seconds above 0" in str(exc)
    assert load({"RESYNC_FSM_SERVER_GRACEFUL_TIMEOUT": "0"}).server.graceful_timeout == 0.0


@pytest.mark.parametrize("bind", ["http://127.0.0.1:8000", "a:1 b:2", "127.0.0.1:1,127.0.0.1:2", "host/x:80",
                                  "unix:/nonexistent-dir-of-resync/app.sock", "unix:/" + "x" * 120])
def test_a_malformed_bind_is_a_configuration_error_not_a_bind_failure(bind: str) -> None:
    with pytest.raises(ConfigurationValidationError, match="--bind"):
        load_settings(flags={"server.bind": [bind]}, environ={}, cwd=Path("/nonexistent"))


@pytest.mark.parametrize(("binds", "management"), [(["127.0.0.1:9000", "127.0.0.1:9000"], None),
                                                   (["127.0.0.1:9000"], ["127.0.0.1:9000"])])
def test_an_address_listened_on_twice_is_a_configuration_error(binds: list[str], management: list[str] | None) -> None:
    flags: dict[str, object] = {"server.bind": binds}
    if management:
        flags["server.management_bind"] = management
    with pytest.raises(ConfigurationValidationError, match="given twice"):
        load_settings(flags=flags, environ={}, cwd=Path("/nonexistent"))
