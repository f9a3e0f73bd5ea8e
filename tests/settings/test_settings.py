"""Settings: every source and its precedence, Resync's variables, every rule, all problems at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.settings import FIELDS, load_settings
from resync_fsm.settings.fields import field

STRONG = {"ADMIN_USERNAME": "operator", "ADMIN_PASSWORD": "Tr0ub4dor&3-horse", "SECRET_KEY": "k" * 16 + "Z" * 16}


def load(environ: dict[str, str] | None = None, tmp: Path | None = None, **kw):  # type: ignore[no-untyped-def]
    return load_settings(environ=environ or {}, cwd=tmp or Path("/nonexistent-dir"), **kw)


def problems(exc: pytest.ExceptionInfo[ConfigurationValidationError]) -> dict[str, str]:
    return {p["field"]: p["problem"] for p in exc.value.details["problems"]}


# One valid example value per Resync variable, and the attribute it lands in.
RESYNC_VALUES = {
    "ENVIRONMENT": ("test", "environment", "test"),
    "REDIS_URL": ("redis://cache:6379/0", "redis_url", "redis://cache:6379/0"),
    "TWS_HOST": ("tws.example", "tws_host", "tws.example"),
    "TWS_PORT": ("31111", "tws_port", 31111),
    "TWS_USER": ("twsuser", "tws_user", "twsuser"),
    "TWS_PASSWORD": ("tws-pass-123", "tws_password", "tws-pass-123"),
    "LLM_ENDPOINT": ("https://llm.example/v1", "llm_endpoint", "https://llm.example/v1"),
    "LLM_API_KEY": ("sk-abc", "llm_api_key", "sk-abc"),
    "ADMIN_USERNAME": ("operator", "admin_username", "operator"),
    "ADMIN_PASSWORD": ("Tr0ub4dor&3-horse", "admin_password", "Tr0ub4dor&3-horse"),
    "SECRET_KEY": ("x" * 40, "secret_key", "x" * 40),
    "REQUIRE_TWS_AT_BOOT": ("false", "require_tws_at_boot", False),
    "REQUIRE_LLM_AT_BOOT": ("no", "require_llm_at_boot", False),
    "SERVER_HOST": ("0.0.0.0", "server_host", "0.0.0.0"),
    "SERVER_PORT": ("9000", "server_port", 9000),
}


@pytest.mark.parametrize("prefix", ["", "APP_"])
@pytest.mark.parametrize("name", sorted(RESYNC_VALUES))
def test_each_resync_variable_is_honoured(name: str, prefix: str) -> None:
    raw, attr, expected = RESYNC_VALUES[name]
    environ = {prefix + name: raw}
    if name == "TWS_HOST":
        environ[prefix + "TWS_PORT"] = "1"
    if name == "TWS_PORT":
        environ[prefix + "TWS_HOST"] = "h"
    settings = load(environ)
    assert getattr(settings.resync, attr) == expected
    assert settings.sources[f"resync.{attr}"] == f"env {prefix}{name}"


@pytest.mark.parametrize("prefix", ["", "APP_"])
def test_log_level_from_resync_variable(prefix: str) -> None:
    assert load({prefix + "LOG_LEVEL": "DEBUG"}).log.level == "debug"


def test_every_resync_variable_is_in_the_table() -> None:
    names = {n for spec in FIELDS for n in spec.resync_env}
    assert names == set(RESYNC_VALUES) | {"LOG_LEVEL"}


def test_app_prefix_wins_over_bare_and_own_name_over_both() -> None:
    assert load({"APP_LOG_LEVEL": "error", "LOG_LEVEL": "debug"}).log.level == "error"
    assert load({"RESYNC_FSM_LOG_LEVEL": "warning", "APP_LOG_LEVEL": "error"}).log.level == "warning"


def test_server_host_and_port_make_the_bind() -> None:
    assert load({"SERVER_PORT": "9000"}).server.bind == ("127.0.0.1:9000",)
    assert load({"SERVER_HOST": "::1", "SERVER_PORT": "9"}).server.bind == ("[::1]:9",)
    assert load({"SERVER_PORT": "9000", "RESYNC_FSM_SERVER_BIND": "127.0.0.1:1"}).server.bind == ("127.0.0.1:1",)
    assert load({"SERVER_PORT": "9000"}, flags={"server.bind": ["127.0.0.1:2"]}).server.bind == ("127.0.0.1:2",)


def test_resync_variables_imply_probes() -> None:
    settings = load({"REDIS_URL": "rediss://:pw@cache:6380/2", "TWS_HOST": "tws", "TWS_PORT": "31111",
                     "LLM_ENDPOINT": "https://llm/v1", "REQUIRE_LLM_AT_BOOT": "true"})
    probes = {p.name: (p.kind, p.critical) for p in settings.probes}
    assert probes == {"redis": ("redis", True), "tws": ("tcp", False), "llm": ("http", True)}
    assert load({"TWS_HOST": "t", "TWS_PORT": "1", "REQUIRE_TWS_AT_BOOT": "1"}).probes[0].critical


@pytest.mark.parametrize("url", ["http://cache:6379", "cache:6379", "redis://", "https://u:p@cache"])
def test_redis_url_scheme_is_checked(url: str) -> None:
    with pytest.raises(ConfigurationValidationError) as exc:
        load({"REDIS_URL": url})
    assert "REDIS_URL" in problems(exc) and "redis://" in problems(exc)["REDIS_URL"]


def test_llm_endpoint_must_be_http() -> None:
    with pytest.raises(ConfigurationValidationError) as exc:
        load({"LLM_ENDPOINT": "ftp://llm"})
    assert "LLM_ENDPOINT" in problems(exc)


def test_required_at_boot_but_not_configured() -> None:
    with pytest.raises(ConfigurationValidationError) as exc:
        load({"REQUIRE_TWS_AT_BOOT": "true", "APP_REQUIRE_LLM_AT_BOOT": "true"})
    found = problems(exc)
    assert "required because REQUIRE_TWS_AT_BOOT is true" == found["TWS_HOST"] == found["TWS_PORT"]
    assert found["LLM_ENDPOINT"] == "required because APP_REQUIRE_LLM_AT_BOOT is true"


def test_half_configured_tws_is_a_problem() -> None:
    with pytest.raises(ConfigurationValidationError) as exc:
        load({"TWS_HOST": "tws"})
    assert problems(exc) == {"TWS_PORT": "required when TWS_HOST is set"}


def test_production_requires_security_settings() -> None:
    with pytest.raises(ConfigurationValidationError) as exc:
        load({"ENVIRONMENT": "production"})
    assert set(problems(exc)) == {"ADMIN_USERNAME", "ADMIN_PASSWORD", "SECRET_KEY"}
    assert load({"ENVIRONMENT": "production", **STRONG}).resync.environment == "production"


@pytest.mark.parametrize(("name", "value", "needle"), [
    ("ADMIN_USERNAME", "ab", "at least 3"),
    ("ADMIN_PASSWORD", "short", "at least 12"),
    ("ADMIN_PASSWORD", "password1234", "weak"),
    ("ADMIN_PASSWORD", "aaaaaaaaaaaaaaaa", "weak"),
    ("SECRET_KEY", "too-short", "at least 32"),
    ("SECRET_KEY", "CHANGE_ME" + "x" * 40, "placeholder"),
])
@pytest.mark.parametrize("environment", ["production", "development"])
def test_security_rules(name: str, value: str, needle: str, environment: str) -> None:
    # strict in production; elsewhere a warning (issue 24), never an error
    if environment == "development":
        (warning,) = load({"ENVIRONMENT": environment, **STRONG, name: value}).warnings()
        assert warning.startswith(f"{name}: ") and needle in warning and "outside production" in warning
        assert value not in warning or name == "ADMIN_USERNAME"
        return
    with pytest.raises(ConfigurationValidationError) as exc:
        load({"ENVIRONMENT": environment, **STRONG, name: value})
    assert needle in problems(exc)[name]
    assert value not in str(exc.value) or name == "ADMIN_USERNAME"


def test_outside_production_security_settings_are_optional() -> None:
    assert load({}).resync.admin_password is None


def test_precedence_default_toml_dotenv_env_flag(tmp_path: Path) -> None:
    (tmp_path / "resync_fsm.toml").write_text("[server]\ndrain_delay = 1\ngraceful_timeout = 1\n"
                                              "shutdown_timeout = 1\n[startup]\ntimeout = 1\n")
    (tmp_path / ".env").write_text("RESYNC_FSM_SERVER_GRACEFUL_TIMEOUT=2\nRESYNC_FSM_SERVER_DRAIN_DELAY=2\n"
                                   "export RESYNC_FSM_STARTUP_TIMEOUT='2' # quoted\n")
    settings = load({"RESYNC_FSM_SERVER_DRAIN_DELAY": "3", "RESYNC_FSM_STARTUP_TIMEOUT": "3"}, tmp_path,
                    env_file=tmp_path / ".env", flags={"startup.timeout": "4"})
    assert settings.server.shutdown_timeout == 1  # toml
    assert settings.server.graceful_timeout == 2  # .env over toml
    assert settings.server.drain_delay == 3  # the real environment over .env
    assert settings.startup.timeout == 4  # flags over everything
    assert settings.server.livez_path == "/livez" and settings.sources["server.livez_path"] == "default"
    assert settings.sources["server.drain_delay"] == "env RESYNC_FSM_SERVER_DRAIN_DELAY"
    assert settings.sources["startup.timeout"] == "flag --startup-timeout"


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("[log]\nlevel = 'warning'\n")
    assert load({"RESYNC_FSM_CONFIG": str(path)}).log.level == "warning"


def test_missing_config_and_env_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationValidationError) as exc:
        load({}, config=tmp_path / "nope.toml", env_file=tmp_path / "nope.env")
    text = str(exc.value)
    assert "nope.toml" in text and "nope.env" in text and "not found" in text


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[server]\ndrain_delay = 1\nbind = [\n")
    with pytest.raises(ConfigurationValidationError, match="line 4"):
        load({}, config=path)


def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text("[server]\ndrain_dealy = 1\n[startp]\ntimeout=1\n[[probes]]\nname='a'\nkind='tcp'\n"
                    "host='h'\nport=1\ncritcal=false\n")
    with pytest.raises(ConfigurationValidationError) as exc:
        load({}, config=path)
    assert {"server.drain_dealy", "startp", "probes[0].critcal"} <= set(problems(exc))


def test_all_problems_at_once_from_every_source(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[server]\ngraceful_timeout = -1\n[[probes]]\nname='x'\nkind='http'\nurl='redis://h'\n")
    with pytest.raises(ConfigurationValidationError) as exc:
        load({"RESYNC_FSM_STARTUP_TIMEOUT": "soon", "REDIS_URL": "http://h"}, config=path,
             flags={"server.drain_delay": "-3"})
    assert set(problems(exc)) == {"server.graceful_timeout", "probes[0].url", "RESYNC_FSM_STARTUP_TIMEOUT",
                                  "REDIS_URL", "--drain-delay"}
    assert str(exc.value).startswith("ConfigurationValidationError") is False
    assert str(exc.value).startswith("5 configuration problems: ")


@pytest.mark.parametrize(("table", "missing"), [
    ("kind='tcp'\nhost='h'\nport=1", "probes[0].name"),
    ("name='a'\nkind='tcp'\nhost='h'", "probes[0].port"),
    ("name='a'\nkind='http'", "probes[0].url"),
    ("name='a'\nkind='redis'\nhost='h'\nport=1", "probes[0].url"),
])
def test_probe_shapes(tmp_path: Path, table: str, missing: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(f"[[probes]]\n{table}\n")
    with pytest.raises(ConfigurationValidationError) as exc:
        load({}, config=path)
    assert missing in problems(exc)


def test_duplicate_probe_names(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[[probes]]\nname='redis'\nkind='tcp'\nhost='h'\nport=1\n")
    with pytest.raises(ConfigurationValidationError, match="defined twice"):
        load({"REDIS_URL": "redis://h"}, config=path)


def test_probe_settings_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[[probes]]\nname='pg'\nkind='postgres'\nurl='postgresql://u:pw@db/app'\ntimeout=1.5\n"
                    "critical=false\n[[probes]]\nname='api'\nkind='http'\nurl='http://api/'\nexpect_status=[200,204]\n")
    pg, api = load({}, config=path).probes
    assert (pg.kind, pg.timeout, pg.critical, pg.target) == ("postgres", 1.5, False, "postgresql://***@db/app")
    assert api.status_ok(204) and not api.status_ok(201)


def test_field_defaults_match_design() -> None:
    assert field("server.bind").default == ("127.0.0.1:8000",)
    assert field("server.graceful_timeout").default == 20.0  # with shutdown_timeout 5: inside Kubernetes' 30 s
    assert field("server.shutdown_timeout").default == 5.0
    assert field("server.drain_delay").default == 0.0
    assert field("startup.timeout").default == 30.0
    assert field("startup.fail_fast").default is True


def test_config_command_shows_values_and_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from resync_fsm.cli import main

    (tmp_path / "resync_fsm.toml").write_text("[server]\ndrain_delay = 2\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWS_PASSWORD", "config-cmd-secret")
    monkeypatch.setenv("REDIS_URL", "redis://:config-cmd-pw@cache:6379/0")
    assert main(["config", "--graceful-timeout", "7"]) == 0
    out = capsys.readouterr().out
    assert f"drain_delay = 2.0  # {tmp_path / 'resync_fsm.toml'} [server.drain_delay]" in out
    assert "graceful_timeout = 7.0  # flag --graceful-timeout" in out
    assert "# tws_password: a secret, not shown (env TWS_PASSWORD): set TWS_PASSWORD in the environment" in out
    assert ('# redis_url = "redis://***@cache:6379/0": holds credentials (a password or token), not shown '
            "(env REDIS_URL): set REDIS_URL in the environment") in out
    assert "config-cmd-secret" not in out and "config-cmd-pw" not in out
    assert main(["config", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sources"]["server.drain_delay"].endswith("[server.drain_delay]")


def test_settings_built_in_python_are_validated_on_construction() -> None:
    from resync_fsm.settings import ProbeSpec, ServerSettings

    assert ServerSettings(bind=("127.0.0.1:1", "unix:/run/app.sock")).bind == ("127.0.0.1:1", "unix:/run/app.sock")
    with pytest.raises(ValueError, match="server.bind"):
        ServerSettings(bind=("127.0.0.1:99999",))
    with pytest.raises(ValueError, match="server.graceful_timeout"):
        ServerSettings(graceful_timeout=-1)
    with pytest.raises(ValueError, match="probes.port"):
        ProbeSpec(name="db", kind="tcp", host="h", port=0)


def test_construction_converts_with_the_tables_parser() -> None:
    import attrs

    from resync_fsm.settings import SECTIONS, LogSettings, ProbeSpec, ServerSettings, Settings

    assert SECTIONS == ("server", "startup", "log", "tls", "access_log", "resync")
    assert set(Settings().redacted()) == {*SECTIONS, "probes"}
    server = ServerSettings(graceful_timeout="7", bind=["[::1]:80"], factory="yes")
    assert (server.graceful_timeout, server.bind, server.factory) == (7.0, ("[::1]:80",), True)
    assert LogSettings(level="DEBUG").level == "debug"
    with pytest.raises(ValueError, match=r"^server\.graceful_timeout: expected a number"):
        ServerSettings(graceful_timeout="soon")
    probe = ProbeSpec(name="api", kind="HTTP", url="http://h/", expect_status="200-299", port="80")
    assert (probe.kind, probe.expect_status, probe.port) == ("http", ((200, 299),), 80)
    assert attrs.evolve(probe, timeout="2") == attrs.evolve(probe, timeout=2.0)  # parsed values parse again
    with pytest.raises(ValueError, match=r"probes\.name"):
        ProbeSpec(name="", kind="tcp")
