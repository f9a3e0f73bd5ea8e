"""README, docs/ and .ci/run stay true to the code."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from resync_fsm.diagram import DiagramError, mermaid, svg
from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.settings.docs import BEGIN, END, reference
from resync_fsm.settings.fields import FIELDS, PROBE_FIELDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def block(text: str) -> str:
    return text.split(BEGIN + "\n", 1)[1].split(END, 1)[0]


@pytest.mark.parametrize("name", ["README.md", "docs/configuration.md"])
def test_settings_reference_is_generated_from_the_table(name: str) -> None:
    assert block((ROOT / name).read_text()) == reference(), "run python -m resync_fsm.settings.docs"


def test_every_key_variable_and_flag_is_documented() -> None:
    text = block(README)
    for spec in FIELDS:
        assert f"`{spec.path}`" in text
        for env in spec.env_names:
            assert f"`{env}`" in text
        if spec.flag:
            assert f"`{spec.flag}`" in text
    for spec in PROBE_FIELDS:
        assert f"| `{spec.key}` |" in text


def test_readme_shows_the_live_diagram() -> None:
    assert f"```mermaid\n{mermaid()}```" in README


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command.strip() in (ROOT / ".ci" / "run").read_text().splitlines()
    run_command = next(c for c in commands if "-m resync_fsm" in c)
    assert "pytest" not in run_command


def test_svg_without_graphviz_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(DiagramError, match="graphviz"):
        svg()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (.ci/run installs it)")
def test_committed_svg_draws_what_the_code_draws() -> None:
    # Graphviz versions differ in layout digits, so compare what is drawn, not the bytes.
    def drawn(text: str) -> list[str]:
        return sorted(re.findall(r"<(?:title|text)[^>]*>([^<]*)<", text))

    assert drawn((ROOT / "diagrams" / "lifecycle.svg").read_text()) == drawn(svg())


def test_resync_migration_example_env_is_valid(tmp_path: Path) -> None:
    from resync_fsm.settings import load_settings

    text = (ROOT / "docs" / "resync.md").read_text()
    example = text.split("## An example `.env`", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    env_file = tmp_path / ".env"
    env_file.write_text(example)
    with pytest.raises(ConfigurationValidationError) as refused:  # its placeholders, in production (issue 24)
        load_settings(env_file=env_file, environ={}, cwd=tmp_path)
    assert {p["field"] for p in refused.value.details["problems"]} == {"ADMIN_PASSWORD", "SECRET_KEY"}
    env_file.write_text(example.replace("change-this", "Kq7-vR2x-Lm9w-Tz4p"))  # real values in their place
    settings = load_settings(env_file=env_file, environ={}, cwd=tmp_path)
    assert settings.resync.environment == "production"
    assert {p.name for p in settings.probes} == {"redis", "tws", "llm"}
    assert settings.server.bind == ("0.0.0.0:8000",)


def test_documented_links_exist() -> None:
    for doc in [README, *(p.read_text() for p in (ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(((?:\.\./)?(?:docs|examples)/[^)#]*|[a-z]+\.md)\)", doc):
            candidates = [ROOT / target.removeprefix("../"), ROOT / "docs" / target]
            assert any(c.exists() for c in candidates), target
