"""``resync_fsm.cli.main(argv)`` in-process: exit codes (DESIGN §2) and the one stderr line per failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resync_fsm import __version__
from resync_fsm.cli import main
from resync_fsm.diagram import dot, mermaid


@pytest.fixture(autouse=True)
def no_config_around(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty working directory and no settings from the test runner's environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RESYNC_FSM_CONFIG", raising=False)


@pytest.mark.parametrize(("argv", "line"), [
    (["--no-such-flag"], "resync-fsm: error: unrecognized arguments: --no-such-flag"),
    (["run", "--startup-timeout"], "resync-fsm run: error: argument --startup-timeout: expected one argument"),
    (["diagram", "--format", "png"], "resync-fsm diagram: error: argument --format: invalid choice: 'png' "
                                     "(choose from 'mermaid', 'dot', 'svg')"),
    (["config", "--json", "extra"], "resync-fsm: error: unrecognized arguments: extra"),
    (["diagram", "--graceful-timeout", "5"], "resync-fsm: error: unrecognized arguments: --graceful-timeout 5"),
])
def test_a_usage_error_exits_2_with_argparses_one_line(argv: list[str], line: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", line + "\n")


def test_version_exits_0_and_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr() == (f"resync_fsm {__version__}\n", "")


def test_help_exits_0_and_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: resync-fsm")
    for command in ("run", "check", "diagram", "config"):
        assert command in out


@pytest.mark.parametrize(("fmt", "draw"), [("mermaid", mermaid), ("dot", dot)])
def test_diagram_prints_or_writes_the_lifecycle(fmt: str, draw: object, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    expected = draw()  # type: ignore[operator]
    assert main(["diagram", "--format", fmt]) == 0
    assert capsys.readouterr() == (expected, "")
    target = tmp_path / f"lifecycle.{fmt}"
    assert main(["diagram", "--format", fmt, "-o", str(target)]) == 0
    assert capsys.readouterr() == ("", "")
    assert target.read_text(encoding="utf-8") == expected


def test_diagram_defaults_to_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram"]) == 0
    assert capsys.readouterr().out == mermaid()


def test_svg_without_graphviz_exits_1_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no `dot` anywhere
    target = tmp_path / "lifecycle.svg"
    assert main(["diagram", "--format", "svg", "-o", str(target)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("DiagramError: svg needs Graphviz's `dot`")
    assert not target.exists()


def test_svg_with_graphviz_is_an_svg_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", "--format", "svg"]) == 0  # graphviz is installed here (.ci/run)
    out = capsys.readouterr().out
    assert "<svg" in out and "draining" in out


def test_config_prints_redacted_settings_with_their_sources(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SECRET_KEY", "cli-test-signing-key-0123456789abcdef")
    monkeypatch.setenv("RESYNC_FSM_SERVER_DRAIN_DELAY", "3")
    assert main(["config", "--graceful-timeout", "7"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert ("# secret_key: a secret, not shown (env SECRET_KEY): set SECRET_KEY in the environment or a .env "
            "file") in lines
    assert "drain_delay = 3.0  # env RESYNC_FSM_SERVER_DRAIN_DELAY" in lines
    assert "graceful_timeout = 7.0  # flag --graceful-timeout" in lines
    assert any(line.startswith("# shutdown_timeout = ") and line.endswith("# default") for line in lines)
    assert [line for line in lines if line.startswith("[")][:2] == ["[server]", "[startup]"]
    assert "cli-test-signing-key" not in out


def test_config_json_is_redacted_settings_and_sources(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LLM_API_KEY", "cli-test-api-key-value")
    assert main(["config", "--json"]) == 0
    out = capsys.readouterr().out
    document = json.loads(out)
    assert set(document) == {"settings", "sources"}
    assert document["settings"]["resync"]["llm_api_key"] == "***"
    assert document["sources"]["resync.llm_api_key"] == "env LLM_API_KEY"
    assert document["sources"]["server.drain_delay"] == "default"
    assert "cli-test-api-key-value" not in out


@pytest.mark.parametrize(("argv", "named"), [
    (["config", "--graceful-timeout", "soon"], "--graceful-timeout"),
    (["config", "--json", "--bind", "127.0.0.1:99999"], "--bind"),
])
def test_config_with_an_invalid_flag_exits_78_with_one_line(argv: list[str], named: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 78
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"ConfigurationValidationError: 1 configuration problem: {named}: ")
    assert argv[-1] in err  # the value given, quoted back


def test_config_with_an_invalid_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RESYNC_FSM_SERVER_DRAIN_DELAY", "-2")
    assert main(["config"]) == 78
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("ConfigurationValidationError: 1 configuration problem: RESYNC_FSM_SERVER_DRAIN_DELAY: "
                   "expected a number of seconds from 0 to 86400, got '-2'\n")


def test_an_unbracketed_host_with_colons_is_a_configuration_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--bind", "x:1:2"]) == 78


def test_a_flag_that_turns_a_setting_off_says_so_in_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    # --no-h2c's help used to read "Accept HTTP/1.1 Upgrade: h2c", the opposite of what the flag does
    from resync_fsm.settings.fields import FIELDS

    assert main(["run", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    negative = [spec for spec in FIELDS if spec.flag_negative]
    assert negative
    for spec in negative:
        assert f"{spec.flag} Turn off {spec.path} (on by default): " in text, spec.flag
